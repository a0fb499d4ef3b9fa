"""The gateway's settings: one pydantic-settings class read from ``VIDEOJOB_GATEWAY_*`` variables.

    VIDEOJOB_GATEWAY_HOST=0.0.0.0  VIDEOJOB_GATEWAY_PORT=8000
    VIDEOJOB_GATEWAY_KEYS_NAMESPACE=videojob-keys     # where the hashed API keys live (Secrets)
    VIDEOJOB_GATEWAY_S3_ENDPOINT=http://minio.videojob.svc:9000   # what presigned URLs point at
    VIDEOJOB_GATEWAY_S3_ACCESS_KEY=...  VIDEOJOB_GATEWAY_S3_SECRET_KEY=...
    VIDEOJOB_GATEWAY_RATE_PER_MINUTE=30  VIDEOJOB_GATEWAY_RATE_BURST=10
    VIDEOJOB_GATEWAY_DAILY_CAP=500
    VIDEOJOB_GATEWAY_LOG_FORMAT=auto  VIDEOJOB_GATEWAY_LOG_LEVEL=INFO   # json | text | auto (api/logs.py)

The gateway reads everything else from the API server: it keeps no database.
"""

from __future__ import annotations

import functools
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from videojob import logformat
from videojob.s3 import S3EndpointURL

ENV_PREFIX = "VIDEOJOB_GATEWAY_"
_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore")

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8000
    public_url: str | None = Field(
        default=None, description="Base URL clients use, for Location headers; default: the request's."
    )
    keys_namespace: Annotated[str, Field(pattern=_DNS_LABEL, max_length=63)] = "videojob-keys"
    # Who create-tenant lets manage a tenant's VideoJobs: the gateway's ServiceAccount and the
    # ClusterRole it is bound to (the chart names them <release>-gateway, <release>-gateway-tenant).
    service_account_namespace: Annotated[str, Field(pattern=_DNS_LABEL, max_length=63)] = "videojob-system"
    service_account_name: Annotated[str, Field(pattern=_DNS_LABEL, max_length=63)] = "videojob-gateway"
    tenant_cluster_role: Annotated[str, Field(min_length=1, max_length=253)] = "videojob-gateway-tenant"
    s3_endpoint: S3EndpointURL = "http://minio.videojob.svc:9000"
    s3_bucket: Annotated[str, Field(min_length=3, max_length=63)] = "videos"
    s3_region: str = "us-east-1"  # presigning needs a region; MinIO accepts any
    s3_access_key: SecretStr | None = None
    s3_secret_key: SecretStr | None = None
    presign_seconds: Annotated[int, Field(ge=10, le=7 * 86400)] = 300
    # Creation rate per tenant: a token bucket refilled at rate_per_minute, holding at most rate_burst.
    rate_per_minute: Annotated[float, Field(gt=0)] = 30.0
    rate_burst: Annotated[int, Field(ge=1)] = 10
    # Videos one tenant may create in any 24 hours (0: no cap).
    daily_cap: Annotated[int, Field(ge=0)] = 500
    max_body_bytes: Annotated[int, Field(ge=1024)] = 256 * 1024
    # Status reads (GET /v1/videos/{id}) from a watched copy of each tenant's VideoJobs (api/cache.py).
    read_cache: bool = True
    # How long a verified key is trusted before its Secret is read again (revocation delay).
    key_cache_seconds: Annotated[float, Field(ge=0)] = 10.0
    # The VideoJob's LLM when a request carries a prompt (the gateway's callers never name a Secret).
    llm_model: str | None = None
    llm_base_url: str | None = None
    llm_secret_name: str | None = Field(default=None, description="Secret in each tenant namespace with the LLM key.")
    llm_secret_key: str = "apiKey"
    # Log lines: JSON for a log pipeline, plain text on a terminal (auto picks by stderr).
    log_format: str = "auto"
    log_level: str = "INFO"

    @field_validator("log_format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        return logformat.check_format(value, f"{ENV_PREFIX}LOG_FORMAT")

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        return logformat.check_level(value, f"{ENV_PREFIX}LOG_LEVEL")


@functools.cache
def get_settings() -> GatewaySettings:
    return GatewaySettings()
