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

API_GROUP = "videojob.dev"
API_VERSION = "v1alpha1"
KIND = "VideoJob"
PLURAL = "videojobs"

RENDERER_SPEC_DIR = "/etc/videojob"
RENDERER_SPEC_FILE = "spec.json"
RENDERER_SPEC_PATH = f"{RENDERER_SPEC_DIR}/{RENDERER_SPEC_FILE}"

Quality = Literal["low", "medium", "high"]
Theme = Literal["default", "physics", "math", "chemistry", "biology", "history"]
Retention = Literal["Retain", "Delete"]
Quantity = int | Annotated[str, Field(max_length=16)]

PROMPT_MAX_CHARS = 4000
MARKDOWN_MAX_CHARS = 65536
STORYBOARD_MAX_SCENES = 50


class _Model(BaseModel):
    # Unknown keys are tolerated: the API server already pruned what the CRD does not know.
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class Storyboard(_Model):
    title: Annotated[str, Field(max_length=200)] | None = None
    scenes: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=STORYBOARD_MAX_SCENES)]


class Source(_Model):
    prompt: Annotated[str, Field(min_length=10, max_length=PROMPT_MAX_CHARS)] | None = None
    markdown: Annotated[str, Field(min_length=1, max_length=MARKDOWN_MAX_CHARS)] | None = None
    storyboard: Storyboard | None = None

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


class Voice(_Model):
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


class Output(_Model):
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
    quality: Quality = "medium"
    theme: Theme = "default"
    voice: Voice = Voice()
    duration_seconds: Annotated[int, Field(ge=15, le=1800)] = Field(default=120, alias="durationSeconds")
    audience: Annotated[str, Field(max_length=200)] | None = None
    language: Annotated[str, Field(max_length=35)] = "en"
    llm: LLM = LLM()
    output: Output = Output()
    resources: Resources = Resources()
    retries: Annotated[int, Field(ge=0, le=10)] = 2
    active_deadline_seconds: Annotated[int, Field(ge=60, le=86400)] = Field(default=3600, alias="activeDeadlineSeconds")
    ttl_seconds_after_finished: Annotated[int, Field(ge=0, le=31536000)] | None = Field(
        default=None, alias="ttlSecondsAfterFinished"
    )
    suspend: bool = False
    parallelism: Annotated[int, Field(ge=1, le=16)] = 1
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
