"""The VideoJob status (videojob.dev/v1alpha1) as a pydantic model: what the operator writes.

The operator computes the status as plain dicts (``videojob.operator.status``); this
model is the schema those dicts must fit, generated into the CRD with the spec (see
:mod:`videojob.crd`), and the typed view a reader such as the gateway validates a
VideoJob's status with. Every field is optional: a status is written piece by piece.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from videojob.limits import ATTEMPTS_MAX
from videojob.structural import kube

AttemptOutcome = Literal["Pending", "Running", "Succeeded", "OOMKilled", "ScratchFull", "Failed"]
Phase = Literal["Pending", "Queued", "Suspended", "Scripting", "Rendering", "Assembling", "Uploading",
                "Succeeded", "Failed"]  # fmt: skip
PHASES: tuple[Phase, ...] = get_args(Phase)
ConditionType = Literal["Accepted", "Progressing", "Succeeded", "Failed"]
CONDITION_TYPES: tuple[ConditionType, ...] = get_args(ConditionType)

STAGE_MAX_CHARS = 1024
CONDITIONS_MAX = 8
CONDITION_REASON = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"  # metav1.Condition's

_INT64 = kube(int64=True)


class _Status(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class Condition(_Status):
    """One aspect of the VideoJob's state."""

    type: Annotated[str, Field(max_length=316)] = Field(
        description=", ".join(CONDITION_TYPES[:-1]) + f" or {CONDITION_TYPES[-1]}."
    )
    status: Literal["True", "False", "Unknown"] = Field(description="True, False or Unknown.")
    reason: Annotated[str, Field(min_length=1, max_length=1024, pattern=CONDITION_REASON)] = Field(
        description="A CamelCase word for programs, for example OOMKilled."
    )
    message: Annotated[str, Field(max_length=32768)] = Field(
        description="The same in words for people, saying what to do when something is wrong."
    )
    last_transition_time: datetime = Field(alias="lastTransitionTime", description="When status last changed.")
    observed_generation: Annotated[int, Field(ge=0)] | None = Field(
        None,
        alias="observedGeneration",
        description="The metadata.generation this condition describes.",
        json_schema_extra=_INT64,
    )


class SubtitleKeys(_Status):
    vtt: str | None = Field(None, description="The WebVTT subtitles.")
    srt: str | None = Field(None, description="The SubRip subtitles.")


class OutputStatus(_Status):
    """The finished video, from the renderer's result (:class:`videojob.contract.StoredOutput`)."""

    bucket: str | None = Field(None, description="The S3 bucket.")
    key: str | None = Field(None, description="The object key of the MP4 video.")
    url: str | None = Field(None, description="s3://bucket/key, or an HTTP URL when the store serves one.")
    size_bytes: int | None = Field(
        None, alias="sizeBytes", description="The size of the video in bytes.", json_schema_extra=_INT64
    )
    duration_seconds: float | None = Field(
        None, alias="durationSeconds", description="The length of the video in seconds."
    )
    sha256: str | None = Field(None, description="The SHA-256 of the video, in hex.")
    subtitles: SubtitleKeys | None = Field(None, description="The subtitle object keys.")
    thumbnail: str | None = Field(None, description="The object key of the thumbnail PNG.")
    contact_sheet: str | None = Field(
        None,
        alias="contactSheet",
        description="The object key of the contact sheet: one PNG with the finished picture of every scene, "
        "in order, to see the whole video at a glance.",
    )
    manifest: str | None = Field(
        None, description="The object key of the per-scene manifest (kept in S3, not in status)."
    )
    cached: bool | None = Field(None, description="true when the video came whole from the render cache.")


class UsageStatus(_Status):
    """What the render consumed (:class:`videojob.contract.Usage`)."""

    llm_prompt_tokens: int | None = Field(
        None, alias="llmPromptTokens", description="LLM prompt tokens.", json_schema_extra=_INT64
    )
    llm_completion_tokens: int | None = Field(
        None, alias="llmCompletionTokens", description="LLM completion tokens.", json_schema_extra=_INT64
    )
    tts_characters: int | None = Field(
        None, alias="ttsCharacters", description="Characters sent to the speech engine.", json_schema_extra=_INT64
    )
    cpu_seconds: float | None = Field(None, alias="cpuSeconds", description="CPU seconds the renderer used.")
    scenes_rendered: int | None = Field(None, alias="scenesRendered", description="Scenes drawn in this run.")
    scenes_cached: int | None = Field(None, alias="scenesCached", description="Scenes taken from the render cache.")
    peak_memory_bytes: int | None = Field(
        None,
        alias="peakMemoryBytes",
        description="The renderer's peak memory in bytes (its container's, all processes at once): "
        "evidence for setting spec.resources or the quality presets.",
        json_schema_extra=_INT64,
    )


class AttemptStatus(_Status):
    """One attempt at this VideoJob's render: one batch/v1 Job, of one Pod or an Indexed Job of spec.parallelism Pods \
(one per share of the scenes); the first attempt, or one started with more memory after an OOM kill or more \
scratch space after an eviction for it."""

    attempt: Annotated[int, Field(ge=1, le=ATTEMPTS_MAX)] = Field(description="1 for the first Job, then 2, 3...")
    job_name: Annotated[str, Field(max_length=63)] = Field(alias="jobName", description="The attempt's batch/v1 Job.")
    memory: Annotated[str, Field(max_length=32)] | None = Field(
        None, description="The renderer's memory limit in this attempt, for example 1536Mi."
    )
    scratch: Annotated[str, Field(max_length=32)] | None = Field(
        None, description="The sizeLimit of the renderer's scratch volume in this attempt, for example 4Gi."
    )
    outcome: AttemptOutcome = Field(
        description="Pending, Running, Succeeded, OOMKilled (the next attempt gets more memory), ScratchFull "
        "(evicted for its scratch volume: the next attempt gets a bigger one) or Failed."
    )


class FailureStatus(_Status):
    reason: str | None = Field(
        None,
        description="A CamelCase reason: OOMKilled, DeadlineExceeded, BackoffLimitExceeded, InvalidSpec, "
        "InvalidStoryboard, ImagePullBackOff, LLMUnavailable, UploadFailed, ScratchFull and others.",
    )
    message: str | None = Field(None, description="What went wrong and what to change.")
    exit_code: int | None = Field(None, alias="exitCode", description="The renderer's last exit code, when it had one.")


class VideoJobStatus(_Status):
    """What the operator observed; written only by the operator."""

    phase: Phase | None = Field(
        None,
        description="Pending (accepted, renderer starting), Queued (waiting for a render slot or for the "
        "scheduler), Suspended (spec.suspend is true), Scripting, Rendering, Assembling, Uploading "
        "(the renderer's stages), Succeeded or Failed (final).",
    )
    progress: Annotated[int, Field(ge=0, le=100)] | None = Field(None, description="Percent done, 0 to 100.")
    stage: Annotated[str, Field(max_length=STAGE_MAX_CHARS)] | None = Field(
        None,
        description='What is happening now, in words, for example "Rendering scene 3/7" or "Queued, position 2 of 5".',
    )
    queue_position: Annotated[int, Field(ge=1)] | None = Field(
        None,
        alias="queuePosition",
        description="While Queued for a render slot, the 1-based place in the operator's queue.",
    )
    estimated_completion_time: datetime | None = Field(
        None,
        alias="estimatedCompletionTime",
        description="When the renderer expects to finish, from its latest progress event.",
    )
    start_time: datetime | None = Field(None, alias="startTime", description="When the renderer Job started.")
    completion_time: datetime | None = Field(
        None, alias="completionTime", description="When the VideoJob succeeded or failed."
    )
    attempts: Annotated[int, Field(ge=0)] | None = Field(
        None, description="How many renderer Pods have been started, retries included."
    )
    attempt_history: Annotated[list[AttemptStatus], Field(max_length=ATTEMPTS_MAX)] | None = Field(
        None,
        alias="attemptHistory",
        description=f"Each attempt so far, oldest first (at most {ATTEMPTS_MAX}): an attempt OOMKilled is "
        "followed by one with more memory, up to the operator's ceiling (VIDEOJOB_OOM_MEMORY_CEILING), one "
        "evicted for its scratch volume (ScratchFull) by one with a bigger volume (VIDEOJOB_SCRATCH_CEILING).",
    )
    job_name: Annotated[str, Field(max_length=63)] | None = Field(
        None, alias="jobName", description="The renderer batch/v1 Job (the newest attempt's), in the same namespace."
    )
    observed_generation: int | None = Field(
        None,
        alias="observedGeneration",
        description="The metadata.generation this status describes.",
        json_schema_extra=_INT64,
    )
    conditions: Annotated[list[Condition], Field(max_length=CONDITIONS_MAX)] | None = Field(
        None,
        description="Accepted, Progressing, Succeeded and Failed, in the standard Kubernetes shape: "
        "`kubectl wait --for=condition=Succeeded vj/NAME` waits for the video.",
        json_schema_extra=kube(list_map_keys=["type"]),
    )
    output: OutputStatus | None = Field(None, description="The finished video, from the renderer's result.")
    usage: UsageStatus | None = Field(None, description="What the render consumed, for quotas and billing.")
    failure: FailureStatus | None = Field(
        None, description="Why the VideoJob failed or is stuck, and what to do about it."
    )
