"""Short-lived presigned URLs for a video's files; the gateway never proxies the bytes.

Presigning is a local computation (an HMAC over the request): no call to S3 is made,
so a download link costs the gateway nothing and S3 serves the bytes (with ranges,
which the browser's player needs for seeking).
"""

from __future__ import annotations

from datetime import timedelta

from minio import Minio

from videojob.s3 import minio_client

from .errors import GatewayError
from .settings import GatewaySettings


class Storage:
    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self._client: Minio | None = None
        if settings.s3_access_key is not None and settings.s3_secret_key is not None:
            # The region given here spares the client a GetBucketLocation round trip per URL.
            self._client = minio_client(
                settings.s3_endpoint,
                settings.s3_access_key.get_secret_value(),
                settings.s3_secret_key.get_secret_value(),
                region=settings.s3_region,
            )

    def presigned_url(self, bucket: str, key: str, download_name: str | None = None) -> str:
        if self._client is None:
            raise GatewayError(
                503,
                "storage_not_configured",
                "the gateway has no S3 credentials to sign a download: "
                "set VIDEOJOB_GATEWAY_S3_ACCESS_KEY and VIDEOJOB_GATEWAY_S3_SECRET_KEY",
            )
        headers: dict[str, str | list[str] | tuple[str]] | None = None
        if download_name:
            headers = {"response-content-disposition": f'inline; filename="{download_name}"'}
        return self._client.presigned_get_object(
            bucket, key, expires=timedelta(seconds=self.settings.presign_seconds), response_headers=headers
        )
