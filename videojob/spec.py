"""The VideoJob spec (videojob.dev/v1alpha1) as a pydantic model: the one definition of the contract.

The CRD's schema in ``manifests/crd/`` is generated from these models (``hack/gen-crd``,
via :mod:`videojob.crd`), so every description ``kubectl explain`` shows, every bound,
pattern, default and CEL rule the API server enforces at admission is written here
once. Limits come from :mod:`videojob.limits`, which the storyboard model shares.
Field names are snake_case in Python and camelCase on the wire. spec.source lives in
:mod:`videojob.video_source`; its names are re-exported here, so ``from videojob.spec import``
reaches every part of the spec.

Python validation covers the types, enums, bounds and patterns, and the two rules that
span fields (one source; a prompt needs an LLM), with the API server's words. The other
CEL rules (trimmed prompt length, a Markdown heading, URLs, quantities, immutability)
run only in the API server: a server-side dry run gives its exact answer.

The renderer receives the spec as JSON in a file (:data:`RENDERER_SPEC_PATH`), mounted
from a ConfigMap the operator creates, because a Markdown source can outgrow an
environment variable.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, model_validator

from videojob import limits as L
from videojob.quality import DEFAULT_ORIENTATION, DEFAULT_QUALITY, QUALITY_PRESETS, Orientation, QualityName
from videojob.spec_model import SpecModel, immutable
from videojob.storyboard import ThemeName
from videojob.structural import Rule, kube
from videojob.video_source import EXACTLY_ONE_SOURCE, SceneSpec, Source, StoryboardSpec

__all__ = [
    "API_GROUP",
    "API_VERSION",
    "EXACTLY_ONE_SOURCE",
    "KIND",
    "LLM",
    "PLURAL",
    "PROMPT_NEEDS_LLM",
    "RENDERER_SPEC_DIR",
    "RENDERER_SPEC_FILE",
    "RENDERER_SPEC_PATH",
    "OutputSpec",
    "ResourceList",
    "Resources",
    "SceneSpec",
    "SecretKeyRef",
    "SecretKeySelector",
    "Source",
    "StoryboardSpec",
    "VideoJobSpec",
    "VoiceSpec",
    "renderer_spec_json",
]

API_GROUP = "videojob.dev"
API_VERSION = "v1alpha1"
KIND = "VideoJob"
PLURAL = "videojobs"

RENDERER_SPEC_DIR = "/etc/videojob"
RENDERER_SPEC_FILE = "spec.json"
RENDERER_SPEC_PATH = f"{RENDERER_SPEC_DIR}/{RENDERER_SPEC_FILE}"

DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
OBJECT_KEY_PREFIX = r"^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*/?$"  # S3's safe characters, no empty segment

Retention = Literal["Retain", "Delete"]
Quantity = int | Annotated[str, Field(max_length=16)]


# A rule the Python validator raises too, so both say the same words.
PROMPT_NEEDS_LLM = Rule(
    "!has(self.source.prompt) || self.llm.provider == 'openai'",
    "spec.source.prompt needs an LLM: set spec.llm.provider to openai "
    "(use spec.source.markdown or spec.source.storyboard for offline renders)",
    field_path=".llm.provider",
)


class VoiceSpec(SpecModel):
    provider: Literal["piper", "espeak", "openai", "none"] | None = Field(
        None,
        description="The speech engine: piper (offline neural voice, English: en_US-joe-medium), espeak "
        "(offline, espeak-ng, most languages), openai (an OpenAI-compatible speech endpoint from spec.llm) "
        "or none (a silent video with subtitles only). Omitted: piper for English, espeak for other languages.",
    )
    name: Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")] | None = Field(
        None, description="The provider's voice name, for example en_US-joe-medium, en-us or alloy."
    )


class SecretKeyRef(SpecModel):
    name: Annotated[str, Field(min_length=1, max_length=253, pattern=DNS_SUBDOMAIN)] = Field(
        description="The name of a Secret in the VideoJob's namespace."
    )
    key: Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[-._a-zA-Z0-9]+$")] = Field(
        description="The key inside that Secret."
    )


class SecretKeySelector(SpecModel):
    secret_key_ref: SecretKeyRef = Field(alias="secretKeyRef", description="The Secret and key that hold the API key.")


class LLM(SpecModel):
    model_config = ConfigDict(
        json_schema_extra=kube(
            Rule(
                "self.provider != 'offline' || !has(self.baseURL)",
                "spec.llm.baseURL only applies to provider openai",
                field_path=".baseURL",
            ),
        )
    )

    provider: Literal["openai", "offline"] = Field(
        "offline",
        description="openai calls an OpenAI-compatible chat endpoint; offline uses no model "
        "(for markdown and storyboard sources).",
    )
    model: Annotated[str, Field(max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/@-]*$")] | None = Field(
        None, description="The model name, for example gpt-4o-mini. Omit for the endpoint's default."
    )
    base_url: Annotated[str, Field(max_length=2048)] | None = Field(
        None,
        alias="baseURL",
        description="The base URL of an OpenAI-compatible server, for example http://vllm.models.svc:8000/v1. "
        "Omit for api.openai.com.",
        json_schema_extra=kube(
            Rule(
                "isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHostname() != ''",
                "spec.llm.baseURL must be an absolute http or https URL",
            )
        ),
    )
    api_key: SecretKeySelector | None = Field(
        None,
        alias="apiKey",
        description="The API key, only ever as a reference to a Secret in this namespace; "
        "an inline key is refused so that it never lands in etcd in clear.",
    )


class OutputSpec(SpecModel):
    bucket: Annotated[str, Field(min_length=3, max_length=63, pattern=r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")] | None = Field(
        None, description="The S3 bucket; defaults to the operator's bucket."
    )
    prefix: Annotated[str, Field(max_length=256, pattern=OBJECT_KEY_PREFIX)] | None = Field(
        None,
        description="A key prefix under which outputs/<namespace>/<name>/<uid>/ is written, "
        "for example team-a/lessons. No leading slash and no empty segments.",
        json_schema_extra=kube(
            Rule(
                "!self.split('/').exists(segment, segment == '..' || segment == '.')",
                "spec.output.prefix must not contain . or .. segments",
            )
        ),
    )
    retention: Retention = Field(
        "Retain",
        description="What happens to the stored video when the VideoJob is deleted: Retain keeps it; "
        "Delete removes the job's objects from S3 first.",
    )


class ResourceList(SpecModel):
    # string(self): an integer is a quantity too. Quantities compare as quantities, not strings.
    cpu: Quantity | None = Field(
        None,
        description="CPU as a Kubernetes quantity, for example 2 or 500m; at most 64.",
        json_schema_extra=kube(
            Rule(
                "isQuantity(string(self)) && quantity(string(self)).isGreaterThan(quantity('0'))"
                " && quantity(string(self)).compareTo(quantity('64')) <= 0",
                "must be a CPU quantity above 0 and at most 64, for example 2 or 500m",
            )
        ),
    )
    memory: Quantity | None = Field(
        None,
        description="Memory as a Kubernetes quantity, for example 2Gi or 512Mi; 128Mi to 256Gi.",
        json_schema_extra=kube(
            Rule(
                "isQuantity(string(self)) && quantity(string(self)).compareTo(quantity('128Mi')) >= 0"
                " && quantity(string(self)).compareTo(quantity('256Gi')) <= 0",
                "must be a memory quantity from 128Mi to 256Gi, for example 2Gi",
            )
        ),
    )


def _not_below(resource: str) -> Rule:
    limit, request = f"self.limits.{resource}", f"self.requests.{resource}"
    return Rule(
        f"!has(self.requests) || !has(self.limits) || !has({request}) || !has({limit}) || "
        f"quantity(string({limit})).compareTo(quantity(string({request}))) >= 0",
        f"spec.resources.limits.{resource} must be at least spec.resources.requests.{resource}",
    )


class Resources(SpecModel):
    model_config = ConfigDict(json_schema_extra=kube(_not_below("memory"), _not_below("cpu")))

    # default_factory, not a default: the API server stores no empty requests or limits.
    requests: ResourceList = Field(
        default_factory=ResourceList, description="What the scheduler reserves for the renderer."
    )
    limits: ResourceList = Field(
        default_factory=ResourceList,
        description="The most the renderer may use; a renderer over its memory limit is OOMKilled.",
    )


def _quality_description() -> str:
    pictures = ", ".join(f"{p.name} {p.picture}" for p in QUALITY_PRESETS.values()).replace(" ", " is ", 1)
    machines = ", ".join(f"{p.name} {p.cpu} CPU / {p.memory}" for p in QUALITY_PRESETS.values())
    return (
        f"Resolution and frame rate: {pictures}. Also picks the CPU and memory preset ({machines}) "
        "unless spec.resources overrides it. Immutable."
    )


class VideoJobSpec(SpecModel):
    """What video to make and how to run the render."""

    model_config = ConfigDict(
        json_schema_extra=kube(
            Rule(
                "self.quality == oldSelf.quality",
                "spec.quality is immutable; create a new VideoJob to render at another quality",
            ),
            PROMPT_NEEDS_LLM,
        )
    )

    source: Source = Field(
        description="What the video is about. Set exactly one of prompt, markdown or storyboard. "
        "Immutable once created: to change it, create a new VideoJob."
    )
    quality: QualityName = Field(DEFAULT_QUALITY, description=_quality_description())
    orientation: Orientation = Field(
        DEFAULT_ORIENTATION,
        description="landscape (16:9, for example 1280x720) or portrait (9:16, for example 720x1280, for reels "
        "and shorts). Every scene is laid out for the frame it is drawn in, not cropped from the other. Immutable.",
        json_schema_extra=kube(immutable("spec.orientation")),
    )
    theme: ThemeName = Field("default", description="Colours, fonts and icons suited to a subject.")
    # default_factory: an omitted voice stays omitted in the stored object.
    voice: VoiceSpec = Field(
        default_factory=VoiceSpec,
        description="Who narrates. Omit for the offline voice of the language (Piper for English, else espeak-ng).",
    )
    duration_seconds: Annotated[int, Field(ge=L.DURATION_SECONDS_MIN, le=L.DURATION_SECONDS_MAX)] = Field(
        L.DURATION_SECONDS_DEFAULT,
        alias="durationSeconds",
        description=f"The target length of the video in seconds, {L.DURATION_SECONDS_MIN} to "
        f"{L.DURATION_SECONDS_MAX} ({L.DURATION_SECONDS_MAX // 60} minutes).",
    )
    audience: Annotated[str, Field(max_length=L.AUDIENCE_MAX_CHARS)] | None = Field(
        None,
        description='Who the video is for, for example "first-year undergraduates"; guides the LLM\'s wording.',
    )
    language: Annotated[str, Field(max_length=L.LANGUAGE_MAX_CHARS, pattern=L.LANGUAGE_TAG_PATTERN)] = Field(
        "en", description="The narration and subtitle language as a BCP 47 tag, for example en, de or pt-BR."
    )
    llm: LLM = Field(LLM(), description="The language model that writes storyboards from prompts.")
    output: OutputSpec = Field(OutputSpec(), description="Where the video goes and how long it stays.")
    resources: Resources = Field(
        default_factory=Resources,
        description="CPU and memory for the renderer container, overriding the quality preset field by field. "
        "Limits must not be below requests.",
    )
    retries: Annotated[int, Field(ge=0, le=L.RETRIES_MAX)] = Field(
        L.RETRIES_DEFAULT,
        description=f"How many times a failed render is retried (the Job's backoffLimit), 0 to {L.RETRIES_MAX}. "
        f"Bad input (exit code 65) is never retried. Immutable once created, rather than applied to a "
        "render under way, whose attempts were already counted against it: create a new VideoJob instead.",
        json_schema_extra=kube(
            Rule("self == oldSelf", "spec.retries is immutable once created; create a new VideoJob")
        ),
    )
    active_deadline_seconds: Annotated[
        int, Field(ge=L.ACTIVE_DEADLINE_SECONDS_MIN, le=L.ACTIVE_DEADLINE_SECONDS_MAX)
    ] = Field(
        L.ACTIVE_DEADLINE_SECONDS_DEFAULT,
        alias="activeDeadlineSeconds",
        description=f"The most seconds the render may take, all attempts together, {L.ACTIVE_DEADLINE_SECONDS_MIN} "
        f"to {L.ACTIVE_DEADLINE_SECONDS_MAX} (one day); then it fails with reason DeadlineExceeded. "
        "Immutable once created, rather than applied to a render under way, whose clock already runs "
        "against it: create a new VideoJob instead.",
        json_schema_extra=kube(
            Rule("self == oldSelf", "spec.activeDeadlineSeconds is immutable once created; create a new VideoJob")
        ),
    )
    ttl_seconds_after_finished: Annotated[int, Field(ge=0, le=L.TTL_SECONDS_MAX)] | None = Field(
        None,
        alias="ttlSecondsAfterFinished",
        description="Delete the VideoJob this many seconds after it succeeded or failed (0 to one year). "
        "Omit to keep it until deleted by hand.",
    )
    suspend: bool = Field(
        False,
        description="true stops the render (its Pod is deleted, phase Suspended) and keeps the VideoJob; "
        "false again resumes it, starting the current attempt afresh.",
    )
    parallelism: (
        Annotated[int, Field(ge=L.PARALLELISM_MIN, le=L.PARALLELISM_MAX)]
        | Annotated[str, Field(pattern=f"^{L.PARALLELISM_AUTO}$", max_length=len(L.PARALLELISM_AUTO))]
    ) = Field(
        L.PARALLELISM_MIN,
        description=f"How many renderer Pods share the video's scenes, {L.PARALLELISM_MIN} to "
        f"{L.PARALLELISM_MAX}, or '{L.PARALLELISM_AUTO}' to pick from the scene count and the quality. "
        "Each Pod narrates and draws its share into the scene cache, and the last one then joins them; "
        "1 renders in a single Pod. Inside a Pod, scenes are drawn one per CPU of its limit.",
    )
    queue_name: Annotated[str, Field(max_length=63, pattern=DNS_LABEL)] | None = Field(
        None,
        alias="queueName",
        description="A Kueue LocalQueue; set as the kueue.x-k8s.io/queue-name label on the renderer Job "
        "so that Kueue admits it.",
    )
    priority_class_name: Annotated[str, Field(max_length=253, pattern=DNS_SUBDOMAIN)] | None = Field(
        None,
        alias="priorityClassName",
        description="A PriorityClass for the renderer Pod. Also orders the operator's queue: "
        "higher priority first, then creation time.",
    )

    @model_validator(mode="after")
    def _prompt_needs_llm(self) -> VideoJobSpec:
        if self.source.prompt is not None and self.llm.provider != "openai":
            raise ValueError(PROMPT_NEEDS_LLM.message)
        return self

    def to_wire(self) -> dict[str, Any]:
        """The spec as the API server stores it (camelCase, unset fields left out)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def renderer_spec_json(spec: VideoJobSpec) -> str:
    """The document the renderer reads from :data:`RENDERER_SPEC_PATH`: the spec, canonical JSON."""
    return json.dumps(spec.to_wire(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
