"""S3 facts every component shares: the endpoint setting's one form, and where a job's files go.

The endpoint is written the same way wherever it is set (``VIDEOJOB_S3_ENDPOINT`` for
the operator, the renderer and the gateway): an absolute ``http://`` or ``https://`` URL
with a host and an optional port, nothing else; the scheme decides TLS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator

if TYPE_CHECKING:
    from minio import Minio

OUTPUTS_DIR = "outputs"


@dataclass(frozen=True)
class S3Endpoint:
    """An S3 endpoint as the MinIO client wants it: ``host[:port]`` and whether to use TLS."""

    netloc: str
    secure: bool

    @property
    def url(self) -> str:
        return f"{'https' if self.secure else 'http'}://{self.netloc}"


def parse_s3_endpoint(value: str) -> S3Endpoint:
    """``http(s)://host[:port]`` as an :class:`S3Endpoint`; a ValueError says what form is expected."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an S3 endpoint: write it as http://host:port or https://host[:port]")
    if parts.path.strip("/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"{value!r}: an S3 endpoint is only a scheme, host and port (no path, query or credentials)")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise ValueError(f"{value!r}: the port must be a number") from None
    return S3Endpoint(netloc=parts.netloc, secure=parts.scheme == "https")


def _normalise_endpoint(value: str) -> str:
    return parse_s3_endpoint(value).url


S3EndpointURL = Annotated[str, AfterValidator(_normalise_endpoint)]
"""The type of every component's ``s3_endpoint`` setting: validated and normalised (no trailing slash)."""


def minio_client(
    endpoint_url: str, access_key: str, secret_key: str, region: str | None = None, http_client: Any = None
) -> Minio:
    """A MinIO client for an ``http(s)://host[:port]`` endpoint; the scheme decides TLS.

    ``region`` given spares the client a GetBucketLocation round trip (presigning, first use);
    ``http_client`` replaces MinIO's own urllib3 pool (the renderer's has retries off).
    """
    from minio import Minio  # imported here: the settings classes import this module, most users never call it

    endpoint = parse_s3_endpoint(endpoint_url)
    return Minio(
        endpoint.netloc,
        access_key=access_key,
        secret_key=secret_key,
        secure=endpoint.secure,
        region=region,
        http_client=http_client,
    )


def job_output_prefix(namespace: str, name: str, uid: str, custom_prefix: str | None = None) -> str:
    """Where one VideoJob's files go: ``[<custom_prefix>/]outputs/<namespace>/<name>/<uid>/``.

    The uid keeps a re-created VideoJob of the same name from overwriting the old video.
    """
    base = f"{OUTPUTS_DIR}/{namespace}/{name}/{uid}/"
    custom = (custom_prefix or "").strip("/")
    return f"{custom}/{base}" if custom else base
