"""Where results and cached scenes are kept: a local folder or an S3 bucket (MinIO client).

Both stores answer the same few questions (exists, upload, download), so the
pipeline and the scene cache never care which one they have. S3 uploads use
multipart above 16 MiB, carry their content type and sha256, and are read back and
hashed before they count as stored.

One retry policy, here: :class:`S3Store` retries each whole operation (an upload, a
download, a check) up to ``S3Access.attempts`` times in all, with exponential backoff,
on transient S3 codes (SlowDown, InternalError, ...) and connection errors; anything
else fails at once. The MinIO client underneath does not retry: :func:`s3_client`
gives it an HTTP pool with urllib3's retries off (MinIO's default pool retries five
times itself, which stacked under this loop made 24 tries of a failing request).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlparse

from videojob.renderer.errors import InvalidSourceError, UploadError
from videojob.s3 import minio_client

PART_SIZE = 16 * 1024 * 1024
# An operation slower than this is logged: S3 answers small requests in milliseconds, so one that
# takes seconds (a stalled server or network) explains a render that stood still.
SLOW_SECONDS = 3.0
TRANSIENT_S3_CODES = {
    "InternalError",
    "SlowDown",
    "ServiceUnavailable",
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "OperationAborted",
    "XMinioServerNotInitialized",
    "XMinioStorageFull",
}
MISSING_S3_CODES = {"NoSuchKey", "NoSuchObject", "ResourceNotFound"}
CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".vtt": "text/vtt; charset=utf-8",
    ".srt": "application/x-subrip",
    ".png": "image/png",
    ".json": "application/json",
    ".wav": "audio/wav",
}
log = logging.getLogger(__name__)
T = TypeVar("T")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def content_type(path: Path | str) -> str:
    return CONTENT_TYPES.get(Path(str(path)).suffix, "application/octet-stream")


class BlobStore(Protocol):
    bucket: str

    def exists(self, key: str) -> bool: ...
    def upload(self, source: Path, key: str, verify: bool = False) -> str: ...
    def put_bytes(self, key: str, data: bytes, media_type: str) -> None: ...
    def download(self, key: str, target: Path) -> None: ...
    def get_bytes(self, key: str) -> bytes | None: ...
    def touch(self, key: str) -> bool: ...
    def url(self, key: str) -> str: ...


class FileStore:
    """Keys are paths under a local folder (the ``file://DIR`` destination)."""

    def __init__(self, root: Path):
        self.root = root
        self.bucket = ""

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise InvalidSourceError(f"key {key!r} leaves the output folder")
        return path

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def upload(self, source: Path, key: str, verify: bool = False) -> str:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(source, partial)
        partial.replace(target)  # atomic: a reader never sees half a file
        digest = sha256_file(target)
        if verify and digest != sha256_file(source):
            raise UploadError(f"{target} does not match what was written")
        return digest

    def put_bytes(self, key: str, data: bytes, media_type: str) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def download(self, key: str, target: Path) -> None:
        shutil.copyfile(self._path(key), target)

    def get_bytes(self, key: str) -> bytes | None:
        path = self._path(key)
        return path.read_bytes() if path.is_file() else None

    def touch(self, key: str) -> bool:
        """Mark ``key`` as used now (its modification time); False when it is not there."""
        try:
            os.utime(self._path(key))
            return True
        except FileNotFoundError:
            return False

    def url(self, key: str) -> str:
        return self._path(key).as_uri()


@dataclass(frozen=True)
class S3Access:
    """How to reach S3: the endpoint (``http(s)://host:port``), credentials, and the attempts per operation."""

    endpoint: str
    access_key: str = ""
    secret_key: str = field(default="", repr=False)
    region: str | None = None
    attempts: int = 4


class S3Store:
    """Keys in one bucket, through the MinIO client; the one place S3 operations are retried."""

    def __init__(self, client: Any, bucket: str, attempts: int = 4, backoff: float = 0.5):
        self.client, self.bucket, self.attempts, self.backoff = client, bucket, attempts, backoff

    def _retrying(self, what: str, action: Callable[[], T]) -> T:
        from minio.error import S3Error
        from urllib3.exceptions import HTTPError

        for attempt in range(1, self.attempts + 1):
            began = time.monotonic()
            try:
                return action()
            except S3Error as error:
                if error.code not in TRANSIENT_S3_CODES or attempt == self.attempts:
                    raise UploadError(f"{what} failed: {error.code}: {error.message}") from error
                problem = error.code
            except (HTTPError, OSError) as error:
                problem = str(getattr(error, "reason", None) or error)  # urllib3 wraps the cause
                if attempt == self.attempts:
                    raise UploadError(f"{what} failed after {attempt} attempts: {problem}") from error
            finally:
                if (took := time.monotonic() - began) > SLOW_SECONDS:
                    log.info("%s took %.1f s (attempt %d)", what, took, attempt)
            log.warning("%s: transient problem (%s), retrying", what, problem)
            time.sleep(self.backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def exists(self, key: str) -> bool:
        from minio.error import S3Error

        def stat() -> bool:
            try:
                self.client.stat_object(self.bucket, key)
                return True
            except S3Error as error:
                if error.code in MISSING_S3_CODES:
                    return False
                raise

        return self._retrying(f"checking s3://{self.bucket}/{key}", stat)

    def upload(self, source: Path, key: str, verify: bool = False) -> str:
        digest = sha256_file(source)
        self._retrying(
            f"uploading s3://{self.bucket}/{key}",
            lambda: self.client.fput_object(
                self.bucket,
                key,
                str(source),
                content_type=content_type(source),
                metadata={"sha256": digest},
                part_size=PART_SIZE,
            ),
        )
        if verify:
            stored = self._retrying(f"verifying s3://{self.bucket}/{key}", lambda: self._remote_sha256(key))
            if stored != digest:
                raise UploadError(f"s3://{self.bucket}/{key} has sha256 {stored}, expected {digest}")
        return digest

    def _remote_sha256(self, key: str) -> str:
        digest = hashlib.sha256()
        response = self.client.get_object(self.bucket, key)
        try:
            for block in response.stream(1 << 20):
                digest.update(block)
        finally:
            response.close()
            response.release_conn()
        return digest.hexdigest()

    def put_bytes(self, key: str, data: bytes, media_type: str) -> None:
        self._retrying(
            f"writing s3://{self.bucket}/{key}",
            lambda: self.client.put_object(self.bucket, key, io.BytesIO(data), len(data), content_type=media_type),
        )

    def download(self, key: str, target: Path) -> None:
        self._retrying(
            f"downloading s3://{self.bucket}/{key}", lambda: self.client.fget_object(self.bucket, key, str(target))
        )

    def get_bytes(self, key: str) -> bytes | None:
        from minio.error import S3Error

        def get() -> bytes | None:
            try:
                response = self.client.get_object(self.bucket, key)
            except S3Error as error:
                if error.code in MISSING_S3_CODES:
                    return None
                raise
            try:
                return bytes(response.read())
            finally:
                response.close()
                response.release_conn()

        return self._retrying(f"reading s3://{self.bucket}/{key}", get)

    def touch(self, key: str) -> bool:
        """Mark ``key`` as used now: copied onto itself, which renews its LastModified on any S3 (a copy,
        unlike a put of bytes read earlier, never brings back an object deleted meanwhile, nor overwrites
        a newer one); False when it is not there."""
        from minio.commonconfig import REPLACE, CopySource
        from minio.error import S3Error

        def copy() -> bool:
            try:
                self.client.copy_object(
                    self.bucket,
                    key,
                    CopySource(self.bucket, key),
                    metadata={"Content-Type": content_type(key)},
                    metadata_directive=REPLACE,  # S3 refuses a copy onto itself that changes nothing
                )
                return True
            except S3Error as error:
                if error.code in MISSING_S3_CODES:
                    return False
                raise

        return self._retrying(f"marking s3://{self.bucket}/{key} used", copy)

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"


def s3_client(access: S3Access) -> Any:
    """A MinIO client for ``access.endpoint``; the scheme decides TLS. Its HTTP pool does not retry
    (see the module docstring); timeouts and certificates are MinIO's own defaults."""
    import certifi
    import urllib3

    pool = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=300, read=300),
        maxsize=10,
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=False,
    )
    return minio_client(access.endpoint, access.access_key, access.secret_key, region=access.region, http_client=pool)


def open_store(location: str, s3: S3Access) -> tuple[BlobStore, str]:
    """The store for ``location`` (``file://DIR``, ``s3://BUCKET/PREFIX``) and the key prefix inside it."""
    scheme, where, prefix = parse_location(location)
    if scheme == "file":
        return FileStore(Path(where)), prefix
    return S3Store(s3_client(s3), where, attempts=s3.attempts), prefix


def parse_location(location: str) -> tuple[str, str, str]:
    """``file://DIR``, ``s3://BUCKET/PREFIX`` or a bare folder as (scheme, bucket-or-dir, prefix)."""
    if "://" not in location:
        return "file", str(Path(location).expanduser()), ""
    parsed = urlparse(location)
    if parsed.scheme == "file":
        return "file", str(Path(parsed.netloc + parsed.path).expanduser()), ""
    if parsed.scheme == "s3" and parsed.netloc:
        return "s3", parsed.netloc, parsed.path.strip("/")
    raise InvalidSourceError(f"unsupported location {location!r}; use file://DIR or s3://BUCKET/PREFIX")
