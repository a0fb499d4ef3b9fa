"""The renderer's settings: one pydantic-settings class, read from VIDEOJOB_* variables.

The operator sets these in the renderer Pod; on a laptop the CLI flags override them.
They are read once, at start-up, and resolved with the VideoJob spec into the frozen
:class:`~videojob.renderer.config.RenderConfig` that the stages are given; no stage reads them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from videojob import logformat
from videojob.quality import (
    DEFAULT_ORIENTATION,
    DEFAULT_QUALITY,
    Orientation,
    QualityName,
    QualityPreset,
    quality_preset,
)
from videojob.s3 import S3EndpointURL

CGROUP_ROOT = Path("/sys/fs/cgroup")


def cgroup_cpu_quota(root: Path = CGROUP_ROOT) -> float | None:
    """CPUs the cgroup's CFS quota allows (the Pod's CPU limit), or None when unlimited.

    cgroup v2 has one file, ``cpu.max``; v1 (still common on nodes, and this machine) has
    ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` under the cpu controller's mount.
    """
    try:
        quota, period = (root / "cpu.max").read_text().split()
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    for controller in ("cpu", "cpu,cpuacct"):
        try:
            quota_us = int((root / controller / "cpu.cfs_quota_us").read_text())
            period_us = int((root / controller / "cpu.cfs_period_us").read_text())
        except (OSError, ValueError):
            continue
        return None if quota_us < 0 else quota_us / period_us
    return None


def cpu_limit(root: Path = CGROUP_ROOT) -> int:
    """Scene workers to run: the CPU limit (whole CPUs, at least one) within the affinity mask."""
    available = len(os.sched_getaffinity(0))
    quota = cgroup_cpu_quota(root)
    return max(1, available if quota is None else min(available, int(quota)))


class RendererSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIDEOJOB_", extra="ignore", populate_by_name=True)

    quality: QualityName = DEFAULT_QUALITY
    orientation: Orientation = Field(default=DEFAULT_ORIENTATION, description="landscape (16:9) or portrait (9:16).")
    theme: str | None = Field(default=None, description="Overrides the storyboard's theme.")
    voice: str | None = Field(
        default=None,
        description="Text-to-speech chain, tried in order: 'openai:alloy,piper:en_US-joe-medium,espeak:en-us'. "
        "Default: the offline voices of the storyboard's language (Piper's en_US-joe-medium then espeak-ng for "
        "English, espeak-ng for the rest); a VideoJob's spec.voice wins.",
    )

    output: str = Field(default="file://out", description="file://DIR or s3://BUCKET[/PREFIX].")
    # What the operator sets in the Pod: the bucket, and the exact key prefix for this job's files.
    output_bucket: str | None = None
    output_prefix: str | None = Field(default=None, description="Exact key prefix; default outputs/<ns>/<name>/<uid>.")
    spec_file: Path | None = Field(
        default=None,
        description="The VideoJob spec (JSON) to render when no SOURCE "
        "is given; the operator mounts it from a ConfigMap.",
    )
    cache: str | None = Field(
        default=None,
        description="Scene cache: file://DIR, s3://BUCKET[/PREFIX] or 'off'. Default: beside an s3 output, "
        "else $XDG_CACHE_HOME/videojob/renderer.",
    )
    namespace: str = "local"
    job_name: str = Field(default="video", validation_alias=AliasChoices("VIDEOJOB_JOB_NAME", "VIDEOJOB_NAME"))
    job_uid: str = Field(default="0", validation_alias=AliasChoices("VIDEOJOB_JOB_UID", "VIDEOJOB_UID"))

    s3_endpoint: S3EndpointURL = Field(default="http://127.0.0.1:9000", description="http(s)://host:port")
    s3_access_key: str = Field(default="", validation_alias=AliasChoices("VIDEOJOB_S3_ACCESS_KEY", "AWS_ACCESS_KEY_ID"))
    s3_secret_key: SecretStr = Field(
        default=SecretStr(""), validation_alias=AliasChoices("VIDEOJOB_S3_SECRET_KEY", "AWS_SECRET_ACCESS_KEY")
    )
    s3_region: str | None = None
    upload_attempts: int = Field(default=4, ge=1)

    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("VIDEOJOB_OPENAI_API_KEY", "OPENAI_API_KEY")
    )
    llm_model: str = "gpt-4o-mini"
    llm_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("VIDEOJOB_LLM_BASE_URL", "OPENAI_BASE_URL")
    )
    llm_timeout_seconds: float = Field(default=60.0, gt=0)
    llm_max_retries: int = Field(default=4, ge=0)
    tts_model: str = "gpt-4o-mini-tts"
    tts_timeout_seconds: float = Field(default=60.0, gt=0)

    max_parallel_scenes: int | None = Field(
        default=None,
        ge=1,
        description="Default: the CPU limit.",
        validation_alias="VIDEOJOB_MAX_PARALLEL_SCENES",
    )
    # A fanned-out render (the operator's shares Job): this Pod draws share SHARD_INDEX of SHARDS into the cache.
    shards: int = Field(default=1, ge=1, description="How many Pods share the scenes; 1: this Pod renders them all.")
    shard_index: int | None = Field(
        default=None, ge=0, validation_alias=AliasChoices("VIDEOJOB_SHARD_INDEX", "JOB_COMPLETION_INDEX")
    )
    progress: Literal["auto", "json", "bar", "none"] = "auto"
    termination_log: Path = Path("/dev/termination-log")
    work_dir: Path | None = None
    # stderr's lines: "text" for a person; the operator sets "json" in the Pod, where stdout carries
    # only the progress lines. The level is the renderer's own (libraries stay at WARNING).
    log_format: str = Field(default="text", description="json, text or auto (text on a terminal, else JSON).")
    log_level: str = "INFO"

    @field_validator("log_format")
    @classmethod
    def _known_log_format(cls, value: str) -> str:
        return logformat.check_format(value, "VIDEOJOB_LOG_FORMAT")

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        return logformat.check_level(value, "VIDEOJOB_LOG_LEVEL")

    @model_validator(mode="after")
    def _bucket_means_s3(self) -> RendererSettings:
        if self.output_bucket and "output" not in self.model_fields_set:
            self.output = f"s3://{self.output_bucket}"
        return self

    @property
    def preset(self) -> QualityPreset:
        return quality_preset(self.quality)

    @property
    def parallel_scenes(self) -> int:
        return self.max_parallel_scenes or cpu_limit()
