"""The gateway's few Kubernetes API calls, as plain REST over one asynchronous connection pool.

The official client is synchronous; the operator runs it in threads, which suits a
handful of calls. The gateway holds one watch per open event stream (hundreds), so it
speaks the same REST with aiohttp on the event loop instead: no thread per stream.
Credentials come from the official client's loader (in-cluster token or kubeconfig),
read again on every request so that a rotated ServiceAccount token is picked up.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any, cast
from urllib.parse import quote

import aiohttp
import kubernetes

from videojob.kubeconfig import ssl_context
from videojob.spec import API_GROUP, API_VERSION, PLURAL

MERGE_PATCH = "application/merge-patch+json"
PARTIAL_METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"


class ApiServerError(Exception):
    """The API server refused a request; ``status`` and ``reason`` are its own (404 NotFound, 409 AlreadyExists...)."""

    def __init__(self, status: int, reason: str, message: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status, self.reason, self.message = status, reason, message
        self.details = dict(details or {})


class ApiServerUnavailable(Exception):
    """The API server could not be reached."""


def videojobs_path(namespace: str, name: str | None = None) -> str:
    path = f"/apis/{API_GROUP}/{API_VERSION}/namespaces/{quote(namespace)}/{PLURAL}"
    return f"{path}/{quote(name)}" if name else path


class Kube:
    """One session to the API server; every method answers plain JSON or raises :class:`ApiServerError`."""

    def __init__(self, configuration: kubernetes.client.Configuration, pool_size: int = 64) -> None:
        self.configuration = configuration
        self._ssl = ssl_context(configuration)
        self._pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            # Watches are long-lived: they get their own connections beyond the pool of short calls.
            connector = aiohttp.TCPConnector(ssl=self._ssl, limit=0, limit_per_host=0, keepalive_timeout=30)
            self._session = aiohttp.ClientSession(self.configuration.host, connector=connector)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _headers(self, content_type: str = "application/json") -> dict[str, str]:
        headers = {"Accept": "application/json", "Content-Type": content_type}
        for setting in self.configuration.auth_settings().values():
            auth = cast(Mapping[str, str], setting)  # {"in": "header", "key": ..., "value": ...}
            headers[auth["key"]] = auth["value"]
        return headers

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: Mapping[str, str] | None = None,
        content_type: str = "application/json",
        accept: str = "application/json",
        timeout: float = 30,
    ) -> dict[str, Any]:
        headers = self._headers(content_type) | {"Accept": accept}
        try:
            async with self.session.request(
                method,
                path,
                params=dict(query or {}),
                headers=headers,
                data=None if body is None else json.dumps(body),
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as response:
                text = await response.text()
                if response.status >= 400:
                    raise _error(response.status, response.reason or "", text)
                return json.loads(text) if text else {}
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise ApiServerUnavailable(
                f"the Kubernetes API server did not answer {method} {path}: {error!r}"
            ) from error

    # --- VideoJobs -----------------------------------------------------------------------

    async def get_videojob(self, namespace: str, name: str) -> dict[str, Any]:
        return await self.request("GET", videojobs_path(namespace, name))

    async def list_videojobs(
        self, namespace: str, *, limit: int | None = None, cont: str | None = None, label_selector: str | None = None
    ) -> dict[str, Any]:
        query = {"limit": str(limit)} if limit else {}
        if cont:
            query["continue"] = cont
        if label_selector:
            query["labelSelector"] = label_selector
        return await self.request("GET", videojobs_path(namespace), query=query)

    async def list_videojob_metadata(self, namespace: str, label_selector: str) -> list[dict[str, Any]]:
        """Only the metadata of matching VideoJobs (no spec: a lecture can be 64 KiB)."""
        listed = await self.request(
            "GET", videojobs_path(namespace), query={"labelSelector": label_selector}, accept=PARTIAL_METADATA_LIST
        )
        return list(listed.get("items") or [])

    async def create_videojob(self, namespace: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return await self.request("POST", videojobs_path(namespace), body=dict(body))

    async def patch_videojob(self, namespace: str, name: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        return await self.request("PATCH", videojobs_path(namespace, name), body=dict(patch), content_type=MERGE_PATCH)

    async def delete_videojob(self, namespace: str, name: str) -> dict[str, Any]:
        # Background: the API server answers at once; the garbage collector stops the renderer Job.
        options = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Background"}
        return await self.request("DELETE", videojobs_path(namespace, name), body=options)

    async def watch_videojob(
        self, namespace: str, name: str, resource_version: str | None, timeout_seconds: int = 3600
    ) -> AsyncIterator[dict[str, Any]]:
        """The watch events (``{"type", "object"}``) of one VideoJob after ``resource_version``.

        A ``resource_version`` the API server no longer remembers ends in an ERROR event with
        code 410 (Gone); the caller starts again from a fresh read.
        """
        async for event in self.watch_videojobs(namespace, resource_version, timeout_seconds, f"metadata.name={name}"):
            yield event

    async def watch_namespace_videojobs(
        self, namespace: str, resource_version: str | None, timeout_seconds: int = 3600
    ) -> AsyncIterator[dict[str, Any]]:
        async for event in self.watch_videojobs(namespace, resource_version, timeout_seconds):
            yield event

    async def watch_videojobs(
        self, namespace: str, resource_version: str | None, timeout_seconds: int, field_selector: str | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        query = {
            "watch": "true",
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(timeout_seconds),
        }
        if field_selector:
            query["fieldSelector"] = field_selector
        if resource_version:
            query["resourceVersion"] = resource_version
        try:
            async with self.session.get(
                videojobs_path(namespace),
                params=query,
                headers=self._headers(),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=30),
            ) as response:
                if response.status >= 400:
                    raise _error(response.status, response.reason or "", await response.text())
                async for line in response.content:
                    if line.strip():
                        yield json.loads(line)
        except (aiohttp.ClientError, OSError) as error:
            raise ApiServerUnavailable(f"the watch on VideoJobs in {namespace} broke: {error!r}") from error

    # --- keys and health -----------------------------------------------------------------

    async def get_secret(self, namespace: str, name: str) -> dict[str, Any]:
        return await self.request("GET", f"/api/v1/namespaces/{quote(namespace)}/secrets/{quote(name)}")

    async def ready(self) -> bool:
        try:
            async with self.session.get(
                "/readyz", headers=self._headers(), timeout=aiohttp.ClientTimeout(total=5)
            ) as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError, OSError):
            return False


def _error(status: int, reason: str, text: str) -> ApiServerError:
    try:
        body = json.loads(text)
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    return ApiServerError(
        status,
        str(body.get("reason") or reason),
        str(body.get("message") or text[:500]),
        body.get("details") if isinstance(body.get("details"), dict) else None,
    )
