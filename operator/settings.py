"""The operator's settings: one pydantic-settings class read from ``VIDEOJOB_*`` variables.

    VIDEOJOB_NAMESPACES=team-a,team-b      # empty: every namespace
    VIDEOJOB_MAX_CONCURRENT_RENDERS=4
    VIDEOJOB_RENDERER_IMAGE=ghcr.io/videojob/renderer:0.1.0
    VIDEOJOB_S3_ENDPOINT=http://minio.videojob.svc:9000
    VIDEOJOB_S3_BUCKET=videos
    VIDEOJOB_S3_SECRET_NAME=videojob-s3     # Secret with accessKey/secretKey, in each job namespace
    VIDEOJOB_PRESETS='{"high": {"cpu": "8", "memory": "8Gi"}}'   # override part of the table
    VIDEOJOB_OOM_MEMORY_FACTOR=1.5          # an OOMKilled render comes back with 1.5 times the memory,
    VIDEOJOB_OOM_MEMORY_CEILING=8Gi         # ... but never more than this
    VIDEOJOB_SCRATCH_FACTOR=2               # a render evicted for its scratch volume comes back with twice the
    VIDEOJOB_SCRATCH_CEILING=40Gi           # sizeLimit, but never more than this
    VIDEOJOB_CACHE_RETENTION=30d            # cached scenes and videos unused this long are removed (0: kept)

The quality presets (resources per quality, requests = limits) come from
:data:`videojob.quality.QUALITY_PRESETS`, the one table of quality names.
"""

from __future__ import annotations

import functools
import re
from typing import Annotated, Literal

from kubernetes.utils.quantity import parse_quantity
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from videojob.limits import CACHE_RETENTION_MIN_SECONDS
from videojob.quality import QUALITY_PRESETS, QualityName
from videojob.s3 import S3EndpointURL

ENV_PREFIX = "VIDEOJOB_"
_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


class Preset(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    cpu: str
    memory: str
    scratch: str


DEFAULT_PRESETS: dict[QualityName, Preset] = {
    name: Preset(cpu=row.cpu, memory=row.memory, scratch=row.scratch) for name, row in QUALITY_PRESETS.items()
}


class SettingsError(RuntimeError):
    """Bad operator settings; the message names each variable and what is wrong with it."""


class OperatorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore")

    namespaces: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Namespaces to watch, comma-separated; empty watches all."
    )
    max_concurrent_renders: Annotated[
        int,
        Field(
            ge=1,
            le=10000,
            description="Renderer Pods running at once (the operator's render slots): a fan-out of N Pods takes N, "
            "one asking for more than the cap runs on the cap; VideoJobs with spec.queueName are Kueue's instead.",
        ),
    ] = 4
    renderer_image: Annotated[str, Field(min_length=1)] = "ghcr.io/videojob/renderer:0.1.0"
    renderer_image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"
    renderer_service_account: str | None = None
    s3_endpoint: S3EndpointURL = "http://minio.videojob.svc:9000"
    s3_bucket: Annotated[str, Field(min_length=3, max_length=63)] = "videos"
    s3_secret_name: Annotated[str, Field(pattern=_DNS_LABEL)] = "videojob-s3"
    s3_access_key_key: str = "accessKey"
    s3_secret_key_key: str = "secretKey"
    # The operator's own S3 credentials, used only to delete outputs with retention Delete.
    s3_access_key: SecretStr | None = None
    s3_secret_key: SecretStr | None = None
    presets: dict[QualityName, Preset] = Field(default_factory=lambda: dict(DEFAULT_PRESETS))
    oom_memory_factor: Annotated[float, Field(ge=1.1, le=4.0)] = 1.5
    oom_memory_ceiling: str = "8Gi"
    scratch_factor: Annotated[float, Field(ge=1.1, le=16.0)] = 2.0
    scratch_ceiling: str = "40Gi"
    progress_log_tail_lines: Annotated[int, Field(ge=1, le=10000)] = 50
    metrics_port: Annotated[int, Field(ge=0, le=65535)] = 8080
    resync_seconds: Annotated[
        float,
        Field(
            ge=0,
            le=3600,
            description="Every VideoJob not yet over is reconciled once per this many seconds, spread over the "
            "period: a safety net for anything no watch event caused. 0 turns it off.",
        ),
    ] = 60.0
    cache_retention: Annotated[
        float,
        Field(
            ge=0,
            description="Cached scenes and videos (s3://BUCKET/cache/) that no render has used for this long are "
            "removed by the operator: a duration such as 30d, 12h or 1d12h (s, m, h, d, w); 0 or off keeps them. "
            "Needs VIDEOJOB_S3_ACCESS_KEY and VIDEOJOB_S3_SECRET_KEY (see operator/cache_expiry.py).",
        ),
    ] = 0.0

    @field_validator("namespaces", mode="before")
    @classmethod
    def _split_namespaces(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("namespaces")
    @classmethod
    def _namespaces_are_names(cls, value: list[str]) -> list[str]:
        bad = [name for name in value if not re.match(_DNS_LABEL, name) or len(name) > 63]
        if bad:
            raise ValueError(f"not namespace names: {', '.join(bad)}")
        return value

    @field_validator("presets", mode="before")
    @classmethod
    def _merge_presets(cls, value: object) -> object:
        # An override may name only some qualities or fields; the rest keep their defaults.
        if not isinstance(value, dict):
            return value
        merged = {name: preset.model_dump() for name, preset in DEFAULT_PRESETS.items()}
        for name, override in value.items():
            if isinstance(override, dict) and name in merged:
                merged[name] = {**merged[name], **override}
            else:
                merged[name] = override
        return merged

    @field_validator("oom_memory_ceiling")
    @classmethod
    def _ceiling_is_a_memory_quantity(cls, value: str) -> str:
        try:
            size = parse_quantity(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a memory quantity such as 8Gi or 6144Mi") from None
        if size < 64 * 2**20:
            raise ValueError(f"{value!r} is below 64Mi, too little for any render")
        return value

    @field_validator("scratch_ceiling")
    @classmethod
    def _ceiling_is_a_size(cls, value: str) -> str:
        try:
            size = parse_quantity(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a size such as 40Gi or 512Mi") from None
        if size <= 0:
            raise ValueError(f"{value!r} is no space at all")
        return value

    @field_validator("cache_retention", mode="before")
    @classmethod
    def _retention_is_a_duration(cls, value: object) -> object:
        seconds = parse_duration(value) if isinstance(value, str) else value
        if isinstance(seconds, (int, float)) and 0 < seconds < CACHE_RETENTION_MIN_SECONDS:
            raise ValueError(
                f"{value!r} is shorter than {CACHE_RETENTION_MIN_SECONDS // 60}m, the least that never removes an "
                "entry a render is reading or writing; write 0 to keep the cache for ever"
            )
        return seconds

    @model_validator(mode="after")
    def _keys_come_in_pairs(self) -> OperatorSettings:
        if (self.s3_access_key is None) != (self.s3_secret_key is None):
            raise ValueError("set both VIDEOJOB_S3_ACCESS_KEY and VIDEOJOB_S3_SECRET_KEY, or neither")
        if self.cache_retention and self.s3_access_key is None:
            raise ValueError(
                "VIDEOJOB_CACHE_RETENTION needs the operator's own S3 credentials to remove cache entries: set "
                "VIDEOJOB_S3_ACCESS_KEY and VIDEOJOB_S3_SECRET_KEY, or set the retention to 0"
            )
        return self

    @property
    def clusterwide(self) -> bool:
        return not self.namespaces


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^(?:\d+[smhdw])+$")


def parse_duration(text: str) -> float:
    """Seconds in a duration such as ``30d``, ``12h`` or ``1d12h``; ``0`` and ``off`` are 0."""
    value = text.strip().lower()
    if value in ("0", "off"):
        return 0.0
    if not _DURATION.match(value):
        raise ValueError(f"{text!r} is not a duration: write a number and a unit (s, m, h, d, w), e.g. 30d or 1d12h")
    return float(sum(int(number) * _DURATION_UNITS[unit] for number, unit in re.findall(r"(\d+)([smhdw])", value)))


def load_settings() -> OperatorSettings:
    """Read the settings from the environment, turning errors into one readable :class:`SettingsError`."""
    try:
        return OperatorSettings()
    except ValidationError as error:
        problems = []
        for item in error.errors():
            field = str(item["loc"][0]) if item["loc"] else ""
            variable = ENV_PREFIX + field.upper() if field in OperatorSettings.model_fields else "settings"
            problems.append(f"{variable}: {item['msg']}")
        raise SettingsError("bad operator settings:\n  " + "\n  ".join(problems)) from None


@functools.cache
def get_settings() -> OperatorSettings:
    return load_settings()
