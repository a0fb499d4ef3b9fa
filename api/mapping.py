"""A video *is* a VideoJob: the request body becomes a VideoJob, the VideoJob becomes the video object.

Both directions are pure functions, so the routers stay thin and the tests compare whole
dicts. The body is checked by :class:`videojob.spec.VideoJobSpec` itself (the model the
CRD is generated from), so what the gateway accepts the API server accepts.

Mapping decisions:
* ``size`` picks the quality and the orientation: ``854x480`` low, ``1280x720`` medium,
  ``1920x1080`` high; the same turned upright (``480x854``, ``720x1280``, ``1080x1920``) is
  ``orientation: portrait``, laid out for 9:16 by every template (not a landscape frame cropped).
* ``seconds`` is ``durationSeconds``, the target length, within the spec's limits.
* ``markdown`` is parsed here by the renderer's own parser (:func:`videojob.markdown_lecture.lecture_of_spec`):
  a lecture the renderer would refuse is a 422 naming ``markdown``, with the renderer's words and the line,
  and no VideoJob is made (it used to be accepted, then failed a minute later inside a renderer Pod).
* status: Pending/Queued -> ``queued``; Scripting..Uploading -> ``in_progress``;
  Succeeded -> ``completed``; Failed -> ``failed``. A cancelled (suspended) video is
  ``failed`` with error code ``cancelled``: OpenAI's client knows no other terminal state,
  and its ``create_and_poll`` must return.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from videojob import limits as L
from videojob.markdown_lecture import lecture_of_spec
from videojob.quality import DEFAULT_ORIENTATION, ORIENTATIONS, QUALITY_PRESETS, Orientation, QualityName
from videojob.spec import API_GROUP, API_VERSION, KIND, OutputSpec, StoryboardSpec, VideoJobSpec, VoiceSpec
from videojob.storyboard import InvalidStoryboardError, ThemeName

from .errors import GatewayError, first_problem
from .logs import note_videojob

logger = logging.getLogger(__name__)

REQUEST_HASH_ANNOTATION = f"{API_GROUP}/request-sha256"
IDEMPOTENCY_ANNOTATION = f"{API_GROUP}/idempotency-key-sha256"
MODEL_ANNOTATION = f"{API_GROUP}/model"
CREATED_BY_LABEL = f"{API_GROUP}/created-by"
DEFAULT_MODEL = "videojob-1"
Variant = Literal["video", "thumbnail", "contact_sheet", "vtt", "srt"]
VARIANTS: tuple[Variant, ...] = get_args(Variant)
RequestedVariant = Literal["video", "thumbnail", "contact_sheet", "vtt", "srt", "spritesheet"]
Status = Literal["queued", "in_progress", "completed", "failed"]

_SIZES: dict[str, tuple[QualityName, Orientation]] = {
    f"{shown.width}x{shown.height}": (name, orientation)
    for orientation in ORIENTATIONS
    for name, preset in QUALITY_PRESETS.items()
    for shown in [preset.oriented(orientation)]
}


class CreateVideo(BaseModel):
    """The body of ``POST /v1/videos``: exactly one of ``prompt``, ``markdown``, ``storyboard``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    prompt: str | None = Field(default=None, description="A topic; an LLM writes the storyboard.")
    markdown: str | None = Field(default=None, description="A lecture in Markdown: headings become scenes.")
    storyboard: StoryboardSpec | None = None
    model: Annotated[str, Field(max_length=128)] | None = Field(default=None, description="Recorded and echoed back.")
    size: str | None = Field(
        default=None,
        description="854x480, 1280x720 or 1920x1080 (picks the quality); 480x854, 720x1280 or 1080x1920 for portrait.",
    )
    seconds: int | str | None = Field(default=None, description="Target duration in seconds (durationSeconds).")
    quality: QualityName | None = None
    orientation: Orientation | None = Field(default=None, description="landscape (16:9) or portrait (9:16).")
    theme: ThemeName | None = None
    voice: VoiceSpec | None = None
    duration_seconds: int | None = Field(
        default=None, validation_alias=AliasChoices("durationSeconds", "duration_seconds")
    )
    language: str | None = None
    audience: str | None = None
    retries: int | None = None
    active_deadline_seconds: int | None = Field(
        default=None, validation_alias=AliasChoices("activeDeadlineSeconds", "active_deadline_seconds")
    )
    ttl_seconds_after_finished: int | None = Field(
        default=None, validation_alias=AliasChoices("ttlSecondsAfterFinished", "ttl_seconds_after_finished")
    )
    retention: Literal["Retain", "Delete"] | None = Field(
        default=None, description="What happens to the files on delete."
    )


# Where a problem found by VideoJobSpec is reported, in the request's own names.
_WIRE_TO_PARAM = {
    "source": "prompt",
    "durationSeconds": "seconds",
    "activeDeadlineSeconds": "active_deadline_seconds",
    "ttlSecondsAfterFinished": "ttl_seconds_after_finished",
}


def _picture(request: CreateVideo) -> tuple[QualityName, Orientation | None]:
    """The quality and orientation that ``size`` (or ``quality``/``orientation``) asks for."""
    if request.size is None:
        return request.quality or "medium", request.orientation
    if request.size not in _SIZES:
        raise GatewayError(
            422,
            "unsupported_size",
            f"size {request.size!r} is not one we render: use "
            + ", ".join(f"{size} ({name}, {orientation})" for size, (name, orientation) in _SIZES.items()),
            "size",
        )
    quality, orientation = _SIZES[request.size]
    if request.quality is not None and request.quality != quality:
        raise GatewayError(
            422,
            "invalid_request",
            f"size {request.size} is quality {quality}, but quality says {request.quality}: set one of them",
            "quality",
        )
    if request.orientation is not None and request.orientation != orientation:
        raise GatewayError(
            422,
            "invalid_request",
            f"size {request.size} is {orientation}, but orientation says {request.orientation}: set one of them",
            "orientation",
        )
    return quality, orientation


def _duration(request: CreateVideo) -> int | None:
    if request.seconds is not None and request.duration_seconds is not None:
        raise GatewayError(422, "invalid_request", "set seconds or durationSeconds, not both", "seconds")
    value = request.seconds if request.seconds is not None else request.duration_seconds
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise GatewayError(
            422,
            "invalid_request",
            f"seconds must be a whole number of seconds "
            f"({L.DURATION_SECONDS_MIN}-{L.DURATION_SECONDS_MAX}), not {value!r}",
            "seconds",
        ) from None


def build_spec(request: CreateVideo, llm: Mapping[str, Any] | None = None) -> VideoJobSpec:
    """The VideoJob spec for this request, validated by the spec model; a 422 names the field.

    An empty ``prompt`` counts as none: OpenAI's client requires the argument, so a lecture
    is sent as ``create(prompt="", extra_body={"markdown": ...})``.
    """
    if request.prompt is not None and not request.prompt.strip():
        request = request.model_copy(update={"prompt": None})
    wire: dict[str, Any] = {
        "source": {
            key: value
            for key, value in (
                ("prompt", request.prompt),
                ("markdown", request.markdown),
                (
                    "storyboard",
                    request.storyboard.model_dump(mode="json", exclude_none=True) if request.storyboard else None,
                ),
            )
            if value is not None
        },
    }
    quality, orientation = _picture(request)
    wire["quality"] = quality
    if orientation is not None and orientation != DEFAULT_ORIENTATION:
        wire["orientation"] = orientation
    optional = {
        "theme": request.theme,
        "durationSeconds": _duration(request),
        "language": request.language,
        "audience": request.audience,
        "retries": request.retries,
        "activeDeadlineSeconds": request.active_deadline_seconds,
        "ttlSecondsAfterFinished": request.ttl_seconds_after_finished,
    }
    wire |= {key: value for key, value in optional.items() if value is not None}
    if request.voice is not None:
        wire["voice"] = request.voice.model_dump(mode="json", exclude_none=True)
    if request.retention is not None:
        wire["output"] = OutputSpec(retention=request.retention).model_dump(mode="json", exclude_none=True)
    if request.prompt is not None and llm:
        wire["llm"] = dict(llm)
    try:
        spec = VideoJobSpec.model_validate(wire)
    except ValidationError as error:
        problems = [dict(item) | {"loc": _request_location(item["loc"])} for item in error.errors()]
        param, message = first_problem(problems)
        raise GatewayError(422, "invalid_request", message, param) from None
    try:
        lecture_of_spec(spec, warn=False)
    except InvalidStoryboardError as error:
        raise GatewayError(422, "invalid_markdown", str(error), "markdown") from None
    except Exception:  # a fault of the check, not of the lecture: the renderer will judge it (not a 500 here)
        logger.exception("checking a Markdown lecture failed; accepting it for the renderer to judge")
    return spec


def _request_location(location: tuple[Any, ...]) -> tuple[Any, ...]:
    if not location:
        return location
    if location[0] == "source":
        return location[1:] or ("prompt",)
    return (_WIRE_TO_PARAM.get(str(location[0]), location[0]), *location[1:])


def request_hash(request: CreateVideo) -> str:
    canonical = json.dumps(request.model_dump(mode="json", exclude_none=True), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def new_video_name(now: float | None = None) -> str:
    """A fresh id whose API-server (name) order is newest first: the time counts down."""
    countdown = (1 << 44) - int((time.time() if now is None else now) * 1000)
    return f"video-{countdown:011x}{secrets.token_hex(4)}"


def idempotent_video_name(namespace: str, key: str) -> str:
    """The one name a tenant's Idempotency-Key maps to: the API server refuses a second create."""
    digest = hashlib.sha256(f"{namespace}\0{key}".encode()).hexdigest()
    return f"video-k{digest[:24]}"


def build_videojob(
    name: str, namespace: str, spec: VideoJobSpec, request: CreateVideo, idempotency_key: str | None
) -> dict[str, Any]:
    annotations = {REQUEST_HASH_ANNOTATION: request_hash(request), MODEL_ANNOTATION: request.model or DEFAULT_MODEL}
    if idempotency_key is not None:
        annotations[IDEMPOTENCY_ANNOTATION] = hashlib.sha256(idempotency_key.encode()).hexdigest()
    return {
        "apiVersion": f"{API_GROUP}/{API_VERSION}",
        "kind": KIND,
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {CREATED_BY_LABEL: "gateway"},
            "annotations": annotations,
        },
        "spec": spec.to_wire(),
    }


def _unix(text: str | None) -> int | None:
    if not text:
        return None
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def video_status(videojob: Mapping[str, Any]) -> Status:
    phase = (videojob.get("status") or {}).get("phase")
    if phase == "Succeeded":
        return "completed"
    if phase == "Failed" or is_cancelled(videojob):
        return "failed"
    if phase in (None, "Pending", "Queued", "Suspended"):
        return "queued"
    return "in_progress"


def is_cancelled(videojob: Mapping[str, Any]) -> bool:
    phase = (videojob.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and bool((videojob.get("spec") or {}).get("suspend"))


def is_terminal(videojob: Mapping[str, Any]) -> bool:
    return video_status(videojob) in ("completed", "failed")


def _error(videojob: Mapping[str, Any]) -> dict[str, str] | None:
    status = videojob.get("status") or {}
    if status.get("phase") == "Failed":
        failure = status.get("failure") or {}
        return {
            "code": str(failure.get("reason") or "RenderFailed"),
            "message": str(failure.get("message") or status.get("stage") or "The render failed."),
        }
    if is_cancelled(videojob):
        return {
            "code": "cancelled",
            "message": "The video was cancelled: its render is suspended. "
            "Delete it, or set spec.suspend to false on the VideoJob to resume.",
        }
    return None


def video_object(videojob: Mapping[str, Any], base_path: str = "/v1/videos") -> dict[str, Any]:
    """The video as the API answers it: OpenAI's ``Video`` plus the VideoJob's own facts."""
    note_videojob(videojob)  # the request's log lines name it, uid included (api/logs.py)
    metadata, spec = videojob["metadata"], videojob.get("spec") or {}
    status = videojob.get("status") or {}
    quality: QualityName = spec.get("quality") or "medium"
    orientation: Orientation = spec.get("orientation") or DEFAULT_ORIENTATION
    preset = QUALITY_PRESETS.get(quality, QUALITY_PRESETS["medium"]).oriented(orientation)
    state = video_status(videojob)
    name = metadata["name"]
    output = status.get("output") or {}
    usage = status.get("usage") or {}
    video: dict[str, Any] = {
        "id": name,
        "object": "video",
        "status": state,
        "progress": 100 if state == "completed" else int(status.get("progress") or 0),
        "phase": "Cancelled" if is_cancelled(videojob) else status.get("phase") or "Pending",
        "stage": status.get("stage") or "Waiting for the operator",
        "created_at": _unix(metadata.get("creationTimestamp")) or 0,
        "completed_at": _unix(status.get("completionTime")) if state in ("completed", "failed") else None,
        "estimated_completion_at": _unix(status.get("estimatedCompletionTime")) if state != "completed" else None,
        "expires_at": None,
        "model": (metadata.get("annotations") or {}).get(MODEL_ANNOTATION, DEFAULT_MODEL),
        "prompt": (spec.get("source") or {}).get("prompt"),
        "seconds": str(spec.get("durationSeconds") or L.DURATION_SECONDS_DEFAULT),
        "size": f"{preset.width}x{preset.height}",
        "quality": quality,
        "theme": spec.get("theme") or "default",
        "error": _error(videojob),
        "usage": {
            "llm_prompt_tokens": int(usage.get("llmPromptTokens") or 0),
            "llm_completion_tokens": int(usage.get("llmCompletionTokens") or 0),
            "tts_characters": int(usage.get("ttsCharacters") or 0),
            "cpu_seconds": float(usage.get("cpuSeconds") or 0.0),
        },
        "output": None,
        "content": None,
    }
    if state == "completed" and output:
        video["output"] = {
            "size_bytes": output.get("sizeBytes"),
            "sha256": output.get("sha256"),
            "duration_seconds": output.get("durationSeconds"),
            "cached": bool(output.get("cached")),
        }
        video["content"] = {
            variant: f"{base_path}/{name}/content?variant={variant}" for variant in available_variants(output)
        }
    return video


def _variant_keys(output: Mapping[str, Any]) -> dict[Variant, str | None]:
    """The object key of each variant in ``status.output``; None for one the renderer did not store
    (a renderer from before the contact sheet stored none)."""
    subtitles = output.get("subtitles") or {}
    return {
        "video": output.get("key"),
        "thumbnail": output.get("thumbnail"),
        "contact_sheet": output.get("contactSheet"),
        "vtt": subtitles.get("vtt"),
        "srt": subtitles.get("srt"),
    }


def available_variants(output: Mapping[str, Any]) -> list[Variant]:
    keys = _variant_keys(output)
    return [variant for variant in VARIANTS if keys[variant]]


def file_variant(requested: RequestedVariant) -> Variant:
    """The file a ``variant`` asks for: ``spritesheet``, OpenAI's name for its grid of a video's frames,
    is the contact sheet (so its client's ``download_content(variant="spritesheet")`` works)."""
    if requested == "spritesheet":
        return "contact_sheet"
    return requested


def content_key(output: Mapping[str, Any], variant: Variant) -> str | None:
    return _variant_keys(output)[variant]
