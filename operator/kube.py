"""The few Kubernetes API calls the operator makes, with errors turned into domain errors.

The official client is synchronous; each call runs in a worker thread so the event
loop stays free. Following a log is the exception: it lasts as long as a render, so it
streams on the event loop (:mod:`.logstream`) instead of holding a thread per Pod.
Every error message says what the operator was doing.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

import aiohttp
import kubernetes
from kubernetes.client.exceptions import ApiException

from videojob.kubeconfig import load_configuration
from videojob.spec import API_GROUP, API_VERSION, PLURAL

from . import metrics
from .errors import PermanentApiError, TransientApiError
from .logstream import LogStreams

REQUEST_TIMEOUT = 30.0
WATCH_READ_TIMEOUT = 360.0  # a watch asks the server to end it after 300 s; silence past this is a dead connection


def load_client_config() -> kubernetes.client.ApiClient:
    """A client for this process's API server (:func:`videojob.kubeconfig.load_configuration`)."""
    return kubernetes.client.ApiClient(load_configuration())


def _resource_of(path: str) -> str:
    """``jobs``, ``videojobs/status``...: the resource a request path names, for the request counter."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    at = parts.index("namespaces") + 2 if "namespaces" in parts else len(parts) - 1
    return "/".join(parts[at : at + 1] + parts[at + 2 : at + 3])


def _translate(doing: str, error: ApiException) -> Exception:
    detail = f"while {doing}: {error.status} {error.reason}"
    if error.status in (403, 400, 422):
        return PermanentApiError(f"{detail}: {error.body}")
    return TransientApiError(detail)


MERGE_PATCH = "application/merge-patch+json"


class ClusterApi(Protocol):
    """What the reconciler asks of the API server: :class:`Kube`, or a stand-in in unit tests."""

    async def create_if_absent(self, manifest: Mapping[str, Any]) -> bool: ...
    async def set_job_suspend(self, namespace: str, name: str, suspend: bool) -> None: ...
    async def set_job_backoff_limit(self, namespace: str, name: str, limit: int) -> None: ...
    async def patch_videojob_status(self, namespace: str, name: str, status: Mapping[str, Any]) -> dict[str, Any]: ...
    async def set_videojob_finalizers(
        self, namespace: str, name: str, finalizers: list[str], resource_version: str
    ) -> None: ...
    async def delete_videojob(self, namespace: str, name: str, uid: str) -> None: ...
    def follow_log(self, namespace: str, pod: str, container: str, tail_lines: int) -> AsyncIterator[str]: ...


class Kube:
    """Plain REST calls on the event loop, with the client's credentials.

    The generated ``CoreV1Api`` and friends are not used on purpose: importing them costs
    the operator about 90 MiB of resident memory for a handful of endpoints. Nor is the
    client's blocking transport: a burst of VideoJobs is bound by API round trips, and a
    pool of threads capped them (32 at once, ~0.35 s each on a loaded machine, so the
    operator created Jobs more slowly than a client created VideoJobs). Here every
    request is an aiohttp request on the session the log streams use, as many at once as
    the reconcile workers and Event posters ask for, and no thread hand-off per call.
    """

    def __init__(self, api_client: kubernetes.client.ApiClient) -> None:
        self.api_client = api_client
        self._logs = LogStreams(api_client.configuration)

    async def close(self) -> None:
        await self._logs.close()

    async def _call(
        self,
        doing: str,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        content_type: str = "application/json",
        timeout: float = REQUEST_TIMEOUT,
        decode: bool = False,
    ) -> dict[str, Any] | None:
        """One request; the answer's JSON when ``decode`` (an answer nobody reads is not parsed).

        The body goes out as plain JSON: the manifests are dicts already.
        """
        metrics.API_REQUESTS.labels(method, _resource_of(path)).inc()
        headers = self._logs.headers() | {"Accept": "application/json", "Content-Type": content_type}
        data = json.dumps(body).encode() if body is not None else None
        try:
            async with self._logs.session.request(
                method,
                path,
                params=dict(params) if params else None,
                data=data,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as response:
                answer = await response.read()
                status, reason = response.status, response.reason or ""
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise TransientApiError(f"while {doing}: {error!r}") from error
        if status >= 400:
            refusal = ApiException(status=status, reason=reason)
            refusal.body = answer.decode(errors="replace")
            raise _translate(doing, refusal) from refusal
        return json.loads(answer or b"{}") if decode else None

    async def create_if_absent(self, manifest: Mapping[str, Any]) -> bool:
        """Create a ConfigMap or Job; False when one of that name already exists (a restart, a race)."""
        namespace, name, kind = manifest["metadata"]["namespace"], manifest["metadata"]["name"], manifest["kind"]
        path = {
            "Job": f"/apis/batch/v1/namespaces/{namespace}/jobs",
            "ConfigMap": f"/api/v1/namespaces/{namespace}/configmaps",
        }[kind]
        try:
            await self._call(f"creating {kind} {namespace}/{name}", "POST", path, body=dict(manifest))
        except TransientApiError as error:
            if isinstance(error.__cause__, ApiException) and error.__cause__.status == 409:
                return False
            raise
        return True

    async def set_job_suspend(self, namespace: str, name: str, suspend: bool) -> None:
        await self._patch_job_spec(namespace, name, "suspend", suspend)

    async def set_job_backoff_limit(self, namespace: str, name: str, limit: int) -> None:
        await self._patch_job_spec(namespace, name, "backoffLimit", limit)

    async def _patch_job_spec(self, namespace: str, name: str, field: str, value: Any) -> None:
        await self._call(
            f"setting {field}={value} on Job {namespace}/{name}",
            "PATCH",
            f"/apis/batch/v1/namespaces/{namespace}/jobs/{name}",
            body={"spec": {field: value}},
            content_type=MERGE_PATCH,
        )

    def _videojob_path(self, namespace: str, name: str) -> str:
        return f"/apis/{API_GROUP}/{API_VERSION}/namespaces/{namespace}/{PLURAL}/{name}"

    async def patch_videojob_status(self, namespace: str, name: str, status: Mapping[str, Any]) -> dict[str, Any]:
        written = await self._call(
            f"writing the status of VideoJob {namespace}/{name}",
            "PATCH",
            self._videojob_path(namespace, name) + "/status",
            body={"status": dict(status)},
            content_type=MERGE_PATCH,
            decode=True,  # its resourceVersion tells when the watch has caught up (world.WrittenStatuses)
        )
        assert written is not None
        return written

    async def set_videojob_finalizers(
        self, namespace: str, name: str, finalizers: list[str], resource_version: str
    ) -> None:
        # resourceVersion makes the merge patch conditional: a concurrent change answers 409 and we retry.
        body = {"metadata": {"finalizers": finalizers, "resourceVersion": resource_version}}
        await self._call(
            f"updating the finalizers of VideoJob {namespace}/{name}",
            "PATCH",
            self._videojob_path(namespace, name),
            body=body,
            content_type=MERGE_PATCH,
        )

    async def delete_videojob(self, namespace: str, name: str, uid: str) -> None:
        options = {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "preconditions": {"uid": uid},
            "propagationPolicy": "Background",
        }
        try:
            await self._call(
                f"deleting finished VideoJob {namespace}/{name}",
                "DELETE",
                self._videojob_path(namespace, name),
                body=options,
            )
        except TransientApiError as error:
            if isinstance(error.__cause__, ApiException) and error.__cause__.status in (404, 409):
                return
            raise

    async def create_event(self, namespace: str, event: Mapping[str, Any]) -> None:
        await self._call(
            f"posting Event {event['reason']} in {namespace}",
            "POST",
            f"/api/v1/namespaces/{namespace}/events",
            body=dict(event),
        )

    def follow_log(self, namespace: str, pod: str, container: str, tail_lines: int) -> AsyncIterator[str]:
        """Lines of a container's log as they come, read on the event loop."""
        return self._logs.follow(namespace, pod, container, tail_lines)

    async def list_page(self, path: str, params: Mapping[str, str]) -> dict[str, Any]:
        """One page of a collection (``limit``/``continue`` in ``params``), as plain JSON."""
        page = await self._call(f"listing {path}", "GET", path, params=params, decode=True)
        assert page is not None
        return page

    async def watch(self, path: str, params: Mapping[str, str]) -> AsyncIterator[dict[str, Any]]:
        """The watch events of a collection as they come, decoded, read on the event loop (like a log)."""
        doing = f"watching {path}"
        query = dict(params) | {"watch": "true", "allowWatchBookmarks": "true"}
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=WATCH_READ_TIMEOUT)
        headers = self._logs.headers() | {"Accept": "application/json"}
        try:
            async with self._logs.session.get(path, params=query, headers=headers, timeout=timeout) as response:
                if response.status == 410:  # as the server says it within a watch: list again
                    yield {"type": "ERROR", "object": {"code": 410, "message": await response.text()}}
                    return
                if response.status >= 400:
                    detail = f"while {doing}: {response.status} {response.reason}: {await response.text()}"
                    if response.status in (400, 403):
                        raise PermanentApiError(detail)
                    raise TransientApiError(detail)
                pending = bytearray()
                async for chunk in response.content.iter_any():
                    pending += chunk
                    end = pending.rfind(b"\n")
                    if end < 0:
                        continue
                    complete, pending = bytes(pending[:end]), pending[end + 1 :]
                    for line in complete.split(b"\n"):
                        if line.strip():
                            yield json.loads(line)
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise TransientApiError(f"while {doing}: {error!r}") from error
