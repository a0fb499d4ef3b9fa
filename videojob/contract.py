"""The contract between the renderer Pod and the operator, version 1.

The renderer holds no Kubernetes credentials, so it talks to the operator through
two channels Kubernetes already provides:

* **Progress events**: one JSON object per line on the container's stdout. The
  operator follows the Pod's log stream and keeps only lines that parse as
  :class:`ProgressEvent` (anything else in the log is ignored), so ordinary log
  output can be interleaved freely.
* **The result**: the container's termination message (``/dev/termination-log``),
  one JSON object under :data:`TERMINATION_MESSAGE_LIMIT` bytes: a :class:`Result`
  on success, a :class:`Failure` otherwise. In a fanned-out render only the Pod that
  assembles writes the :class:`Result`; every other share Pod writes a :class:`ShareDone`
  with its own usage, so that the operator can add up what every Pod used.
* **The end, said early**: the same :class:`Result` or :class:`ShareDone`, written as
  one more line on stdout just after the termination message (:func:`parse_end_line`).
  The operator reads it from the log it already follows and may call the render over
  then, instead of a second later, when the kubelet's next look at its containers (a
  1 s relist) shows the container terminated. The termination message stays the
  authority: the line is only a head start, and a renderer that never writes it loses
  nothing but the second.

The exit code tells the Job controller whether to retry: :data:`EXIT_BAD_INPUT`
means the input can never succeed (the Job's podFailurePolicy fails at once);
any other non-zero code is transient and retried up to ``spec.retries``.

Every object carries a ``videojob`` key naming its kind and version, so a future
v2 can be told apart and the operator can refuse what it does not understand.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

PROGRESS_KIND: Final = "progress/v1"
RESULT_KIND: Final = "result/v1"
FAILURE_KIND: Final = "failure/v1"
SHARE_KIND: Final = "share/v1"  # added within v1: an older operator takes it for a foreign message

TERMINATION_MESSAGE_PATH = "/dev/termination-log"
TERMINATION_MESSAGE_LIMIT = 4096  # the kubelet truncates at 4 KiB

EXIT_SUCCESS = 0
EXIT_BAD_INPUT = 65  # sysexits EX_DATAERR: the spec or storyboard is wrong; never retried
EXIT_TRANSIENT = 75  # sysexits EX_TEMPFAIL: retried by the Job controller

RendererPhase = Literal["Scripting", "Rendering", "Assembling", "Uploading"]


class FailureReason:
    """Reasons the renderer reports; the operator adds its own (OOMKilled, DeadlineExceeded...)."""

    INVALID_STORYBOARD = "InvalidStoryboard"
    INVALID_SPEC = "InvalidSpec"
    LLM_UNAVAILABLE = "LLMUnavailable"
    TTS_FAILED = "NarrationFailed"
    RENDER_FAILED = "RenderFailed"
    UPLOAD_FAILED = "UploadFailed"


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class ProgressEvent(_Message):
    videojob: Literal["progress/v1"] = PROGRESS_KIND
    phase: RendererPhase
    progress: Annotated[float, Field(ge=0, le=100)]
    stage: Annotated[str, Field(max_length=200)] = Field(description='Human text, e.g. "Rendering scene 3/7".')
    scene: Annotated[int, Field(ge=1)] | None = None
    scenes: Annotated[int, Field(ge=1)] | None = None
    eta_seconds: Annotated[float, Field(ge=0)] | None = Field(default=None, alias="etaSeconds")
    # Added within v1, from a Pod that draws one share of a fanned-out render: the whole storyboard's
    # scene count, while ``scene`` and ``scenes`` count the share (an older operator ignores it).
    storyboard_scenes: Annotated[int, Field(ge=1)] | None = Field(default=None, alias="storyboardScenes")
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))


class Subtitles(_Message):
    vtt: str
    srt: str


class StoredOutput(_Message):
    """Where the renderer stored the video and what it is: the ``output`` of a :class:`Result`."""

    bucket: str
    key: str
    url: str | None = None
    size_bytes: int = Field(alias="sizeBytes", ge=0)
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    duration_seconds: float = Field(alias="durationSeconds", ge=0)
    subtitles: Subtitles | None = None
    thumbnail: str | None = None
    manifest: str | None = None
    cached: bool = False
    # Added within v1: the PNG with every scene's finished picture; an older operator ignores it,
    # and a result from an older renderer has none (the gateway answers 404 for that variant).
    contact_sheet: str | None = Field(default=None, alias="contactSheet")


class Usage(_Message):
    llm_prompt_tokens: int = Field(default=0, alias="llmPromptTokens", ge=0)
    llm_completion_tokens: int = Field(default=0, alias="llmCompletionTokens", ge=0)
    tts_characters: int = Field(default=0, alias="ttsCharacters", ge=0)
    cpu_seconds: float = Field(default=0.0, alias="cpuSeconds", ge=0)
    scenes_rendered: int = Field(default=0, alias="scenesRendered", ge=0)
    scenes_cached: int = Field(default=0, alias="scenesCached", ge=0)
    # Added within v1: an older operator ignores it, a newer one reads 0 from an older renderer.
    peak_memory_bytes: int = Field(default=0, alias="peakMemoryBytes", ge=0)


class Result(_Message):
    videojob: Literal["result/v1"] = RESULT_KIND
    output: StoredOutput
    usage: Usage = Usage()


class ShareDone(_Message):
    """A share Pod of a fanned-out render drew its scenes into the cache (the assembling Pod writes the Result)."""

    videojob: Literal["share/v1"] = SHARE_KIND
    index: int = Field(ge=0)
    shares: int = Field(ge=1)
    usage: Usage = Usage()


class Failure(_Message):
    videojob: Literal["failure/v1"] = FAILURE_KIND
    reason: str = Field(pattern=r"^[A-Z][A-Za-z0-9]*$")
    message: str


def _dump(message: _Message) -> str:
    return json.dumps(message.model_dump(mode="json", by_alias=True, exclude_none=True), separators=(",", ":"))


def encode_progress(event: ProgressEvent) -> str:
    """One log line; the caller writes it to stdout followed by a newline and flushes."""
    return _dump(event)


def parse_progress_line(line: str) -> ProgressEvent | None:
    """The event on this log line, or None for any line that is not a v1 progress event."""
    line = line.strip()
    if not line.startswith("{") or PROGRESS_KIND not in line:
        return None
    try:
        return ProgressEvent.model_validate_json(line)
    except ValidationError:
        return None


def encode_termination_message(message: Result | Failure | ShareDone) -> str:
    """The termination message, guaranteed to fit the kubelet's 4 KiB limit.

    A failure message that is too long is shortened (the reason is kept). A result is small
    unless its keys are long (a 256-character spec.output.prefix and a 253-character name
    make each key over 600 bytes): then it leaves out, one by one, what a reader can do without,
    ``url`` (s3://bucket/key again, which the operator writes back), ``manifest`` and the
    contact sheet (both still stored beside the video); one still too long is a bug worth
    failing loudly on.
    """
    text = _dump(message)
    if len(text.encode()) <= TERMINATION_MESSAGE_LIMIT:
        return text
    if isinstance(message, Failure):
        overflow = len(text.encode()) - TERMINATION_MESSAGE_LIMIT
        shortened = message.message.encode()[: max(0, len(message.message.encode()) - overflow - 16)]
        return _dump(message.model_copy(update={"message": shortened.decode(errors="ignore") + " [truncated]"}))
    if isinstance(message, Result):
        output = message.output
        for dispensable in ("url", "manifest", "contact_sheet"):
            output = output.model_copy(update={dispensable: None})
            text = _dump(message.model_copy(update={"output": output}))
            if len(text.encode()) <= TERMINATION_MESSAGE_LIMIT:
                return text
    raise ValueError(f"result message is {len(text.encode())} bytes, over the {TERMINATION_MESSAGE_LIMIT}-byte limit")


def parse_termination_message(text: str | None) -> Result | Failure | None:
    """The renderer's result or failure, or None when the message is absent or foreign."""
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    kind = data.get("videojob") if isinstance(data, dict) else None
    try:
        if kind == RESULT_KIND:
            return Result.model_validate(data)
        if kind == FAILURE_KIND:
            return Failure.model_validate(data)
    except ValidationError:
        return None
    return None


def parse_end_line(line: str) -> Result | ShareDone | None:
    """The :class:`Result` or :class:`ShareDone` a renderer wrote on this log line, else None (any other line)."""
    line = line.strip()
    if not line.startswith("{") or (RESULT_KIND not in line and SHARE_KIND not in line):
        return None
    message = parse_termination_message(line) or parse_share_message(line)
    return message if isinstance(message, Result | ShareDone) else None


def parse_share_message(text: str | None) -> ShareDone | None:
    """A share Pod's :class:`ShareDone`, or None for any other (or no) termination message."""
    if not text or SHARE_KIND not in text:
        return None
    try:
        return ShareDone.model_validate_json(text)
    except ValidationError:
        return None
