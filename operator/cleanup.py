"""What the operator removes from S3: a VideoJob's outputs when its retention is Delete (guarded by a
finalizer), and with ``VIDEOJOB_CACHE_RETENTION`` the scene cache's unused entries (the sweep is
:mod:`.cache_expiry`; it starts and stops with the operator here)."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Mapping
from typing import Any

import kopf
from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.error import MinioException

from videojob.s3 import minio_client

from .cache_expiry import sweep_interval, sweeper_for
from .errors import CleanupNotConfigured, TransientApiError
from .settings import OperatorSettings, get_settings

FINALIZER = "videojob.dev/output-cleanup"


def finalizers_for(metadata: Mapping[str, Any], retention: str) -> list[str] | None:
    """The VideoJob's finalizers as its retention wants them; None when they are so already."""
    finalizers = list(metadata.get("finalizers") or [])
    wanted = retention == "Delete"
    if wanted == (FINALIZER in finalizers):
        return None
    return [*finalizers, FINALIZER] if wanted else [f for f in finalizers if f != FINALIZER]


def without_finalizer(metadata: Mapping[str, Any]) -> list[str]:
    return [f for f in metadata.get("finalizers") or [] if f != FINALIZER]


class OutputCleaner:
    def __init__(self, settings: OperatorSettings) -> None:
        self._settings = settings
        self._client: Minio | None = None
        if settings.s3_access_key is not None and settings.s3_secret_key is not None:
            self._client = minio_client(
                settings.s3_endpoint,
                settings.s3_access_key.get_secret_value(),
                settings.s3_secret_key.get_secret_value(),
            )

    def _delete_prefix(self, bucket: str, prefix: str) -> int:
        assert self._client is not None
        names = [
            DeleteObject(item.object_name) for item in self._client.list_objects(bucket, prefix=prefix, recursive=True)
        ]
        errors = list(self._client.remove_objects(bucket, names)) if names else []
        if errors:
            raise TransientApiError(f"while deleting s3://{bucket}/{prefix}: {errors[0]}")
        return len(names)

    async def delete_prefix(self, bucket: str, prefix: str) -> int:
        """Remove every object under the prefix; how many there were."""
        if self._client is None:
            raise CleanupNotConfigured(
                "retention is Delete but the operator has no S3 credentials: set VIDEOJOB_S3_ACCESS_KEY and "
                "VIDEOJOB_S3_SECRET_KEY, or remove the videojob.dev/output-cleanup finalizer by hand"
            )
        try:
            return await asyncio.to_thread(self._delete_prefix, bucket, prefix)
        except (MinioException, OSError) as error:
            raise TransientApiError(f"while deleting s3://{bucket}/{prefix}: {error}", delay=10) from error


@kopf.on.startup()
async def start_cache_sweep(memo: kopf.Memo, **_: Any) -> None:
    """Sweep the scene cache every so often when a retention is set (see :mod:`.cache_expiry`)."""
    settings = get_settings()
    sweeper = sweeper_for(settings)
    memo.cache_sweep = None
    if sweeper is not None:
        sweeping = sweeper.run(sweep_interval(settings.cache_retention))
        memo.cache_sweep = asyncio.create_task(sweeping, context=contextvars.Context())  # in no handler's context


@kopf.on.cleanup()
async def stop_cache_sweep(memo: kopf.Memo, **_: Any) -> None:
    task = memo.get("cache_sweep")
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
