"""The VideoJob spec (videojob.dev/v1alpha1) as a pydantic model, shared by the operator and gateway.

The CRD in ``manifests/crd/`` is the contract and the API server enforces it at
admission; this model mirrors it so that Python code reads typed fields instead of
nested dicts, and so the gateway can refuse a bad request before it reaches the
API server. Field names are snake_case in Python and camelCase on the wire.

The renderer receives the spec as JSON in a file (:data:`RENDERER_SPEC_PATH`), mounted
from a ConfigMap the operator creates, because a Markdown source can outgrow an
environment variable.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from videojob import limits as L
from videojob.quality import DEFAULT_QUALITY, QualityName
from videojob.storyboard import ThemeName

API_GROUP = "videojob.dev"
API_VERSION = "v1alpha1"
KIND = "VideoJob"
PLURAL = "videojobs"

RENDERER_SPEC_DIR = "/etc/videojob"
RENDERER_SPEC_FILE = "spec.json"
RENDERER_SPEC_PATH = f"{RENDERER_SPEC_DIR}/{RENDERER_SPEC_FILE}"

Retention = Literal["Retain", "Delete"]
Quantity = int | Annotated[str, Field(max_length=16)]


class _Model(BaseModel):
    # Unknown keys are tolerated: the API server already pruned what the CRD does not know.
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class StoryboardSpec(_Model):
    """The storyboard as the VideoJob carries it: loosely typed scenes, validated in depth by
    :class:`videojob.storyboard.Storyboard` when the renderer reads them."""

    title: Annotated[str, Field(max_length=L.TITLE_MAX_CHARS)] | None = None
    scenes: Annotated[list[dict[str, Any]], Field(min_length=L.SCENES_MIN, max_length=L.SCENES_MAX)]


class Source(_Model):
    prompt: Annotated[str, Field(min_length=L.PROMPT_MIN_CHARS, max_length=L.PROMPT_MAX_CHARS)] | None = None
    markdown: Annotated[str, Field(min_length=1, max_length=L.MARKDOWN_MAX_CHARS)] | None = None
    storyboard: StoryboardSpec | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Source:
        chosen = [name for name in ("prompt", "markdown", "storyboard") if getattr(self, name) is not None]
        if len(chosen) != 1:
            raise ValueError("spec.source must set exactly one of prompt, markdown or storyboard")
        return self

    @property
    def kind(self) -> Literal["prompt", "markdown", "storyboard"]:
        if self.prompt is not None:
            return "prompt"
        return "markdown" if self.markdown is not None else "storyboard"


class VoiceSpec(_Model):
    provider: Literal["espeak", "openai", "none"] = "espeak"
    name: Annotated[str, Field(max_length=64)] | None = None


class SecretKeyRef(_Model):
    name: Annotated[str, Field(min_length=1, max_length=253)]
    key: Annotated[str, Field(min_length=1, max_length=253)]


class SecretKeySelector(_Model):
    secret_key_ref: SecretKeyRef = Field(alias="secretKeyRef")


class LLM(_Model):
    provider: Literal["openai", "offline"] = "offline"
    model: Annotated[str, Field(max_length=128)] | None = None
    base_url: Annotated[str, Field(max_length=2048)] | None = Field(default=None, alias="baseURL")
    api_key: SecretKeySelector | None = Field(default=None, alias="apiKey")


class OutputSpec(_Model):
    bucket: Annotated[str, Field(min_length=3, max_length=63)] | None = None
    prefix: Annotated[str, Field(max_length=256)] | None = None
    retention: Retention = "Retain"


class ResourceList(_Model):
    cpu: Quantity | None = None
    memory: Quantity | None = None


class Resources(_Model):
    requests: ResourceList = ResourceList()
    limits: ResourceList = ResourceList()


class VideoJobSpec(_Model):
    source: Source
    quality: QualityName = DEFAULT_QUALITY
    theme: ThemeName = "default"
    voice: VoiceSpec = VoiceSpec()
    duration_seconds: Annotated[int, Field(ge=L.DURATION_SECONDS_MIN, le=L.DURATION_SECONDS_MAX)] = Field(
        default=L.DURATION_SECONDS_DEFAULT, alias="durationSeconds"
    )
    audience: Annotated[str, Field(max_length=L.AUDIENCE_MAX_CHARS)] | None = None
    language: Annotated[str, Field(max_length=L.LANGUAGE_MAX_CHARS)] = "en"
    llm: LLM = LLM()
    output: OutputSpec = OutputSpec()
    resources: Resources = Resources()
    retries: Annotated[int, Field(ge=0, le=L.RETRIES_MAX)] = L.RETRIES_DEFAULT
    active_deadline_seconds: Annotated[
        int, Field(ge=L.ACTIVE_DEADLINE_SECONDS_MIN, le=L.ACTIVE_DEADLINE_SECONDS_MAX)
    ] = Field(default=L.ACTIVE_DEADLINE_SECONDS_DEFAULT, alias="activeDeadlineSeconds")
    ttl_seconds_after_finished: Annotated[int, Field(ge=0, le=L.TTL_SECONDS_MAX)] | None = Field(
        default=None, alias="ttlSecondsAfterFinished"
    )
    suspend: bool = False
    parallelism: Annotated[int, Field(ge=L.PARALLELISM_MIN, le=L.PARALLELISM_MAX)] = L.PARALLELISM_MIN
    queue_name: Annotated[str, Field(max_length=63)] | None = Field(default=None, alias="queueName")
    priority_class_name: Annotated[str, Field(max_length=253)] | None = Field(default=None, alias="priorityClassName")

    @model_validator(mode="after")
    def _prompt_needs_llm(self) -> VideoJobSpec:
        if self.source.prompt is not None and self.llm.provider != "openai":
            raise ValueError("spec.source.prompt needs an LLM: set spec.llm.provider to openai")
        return self

    def to_wire(self) -> dict[str, Any]:
        """The spec as the API server stores it (camelCase, unset fields left out)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def renderer_spec_json(spec: VideoJobSpec) -> str:
    """The document the renderer reads from :data:`RENDERER_SPEC_PATH`: the spec, canonical JSON."""
    return json.dumps(spec.to_wire(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
