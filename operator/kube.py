"""The few Kubernetes API calls the operator makes, with errors turned into domain errors.

The official client is synchronous; each call runs in a worker thread so the event
loop stays free. Every error message says what the operator was doing.
"""

from __future__ import annotations

import asyncio
import functools
import json
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import kubernetes
from kubernetes.client.exceptions import ApiException

from videojob.spec import API_GROUP, API_VERSION, PLURAL

from .errors import PermanentApiError, TransientApiError


def load_client_config() -> kubernetes.client.ApiClient:
    """In a Pod: its ServiceAccount; elsewhere: $KUBECONFIG or ~/.kube/config."""
    configuration = kubernetes.client.Configuration()
    try:
        kubernetes.config.load_incluster_config(client_configuration=configuration)
    except kubernetes.config.ConfigException:
        kubernetes.config.load_kube_config(client_configuration=configuration)
    configuration.connection_pool_maxsize = 32
    return kubernetes.client.ApiClient(configuration)


def _translate(doing: str, error: ApiException) -> Exception:
    detail = f"while {doing}: {error.status} {error.reason}"
    if error.status in (403, 400, 422):
        return PermanentApiError(f"{detail}: {error.body}")
    return TransientApiError(detail)


class Kube:
    def __init__(self, api_client: kubernetes.client.ApiClient) -> None:
        self.api_client = api_client
        self.core = kubernetes.client.CoreV1Api(api_client)
        self.batch = kubernetes.client.BatchV1Api(api_client)
        self.custom = kubernetes.client.CustomObjectsApi(api_client)
        # As many threads as pooled connections: a burst of VideoJobs is bound by API round trips.
        self._executor = ThreadPoolExecutor(api_client.configuration.connection_pool_maxsize, thread_name_prefix="kube-api")

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _call(self, doing: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Run one call in the API thread pool; the answer as plain JSON (no client models: cheaper)."""
        call = functools.partial(function, *args, _preload_content=False, **kwargs)
        try:
            response = await asyncio.get_running_loop().run_in_executor(self._executor, call)
            return json.loads(response.data or b"{}")
        except ApiException as error:
            raise _translate(doing, error) from error
        except (OSError, kubernetes.client.exceptions.OpenApiException) as error:
            raise TransientApiError(f"while {doing}: {error}") from error

    async def create_if_absent(self, manifest: Mapping[str, Any]) -> bool:
        """Create a ConfigMap or Job; False when one of that name already exists (a restart, a race)."""
        namespace, name, kind = manifest["metadata"]["namespace"], manifest["metadata"]["name"], manifest["kind"]
        create = {"Job": self.batch.create_namespaced_job, "ConfigMap": self.core.create_namespaced_config_map}[kind]
        try:
            await self._call(f"creating {kind} {namespace}/{name}", create, namespace, manifest)
        except TransientApiError as error:
            if isinstance(error.__cause__, ApiException) and error.__cause__.status == 409:
                return False
            raise
        return True

    async def set_job_suspend(self, namespace: str, name: str, suspend: bool) -> None:
        await self._call(f"setting suspend={suspend} on Job {namespace}/{name}", self.batch.patch_namespaced_job,
                         name, namespace, {"spec": {"suspend": suspend}})

    async def patch_videojob_status(self, namespace: str, name: str, status: Mapping[str, Any]) -> dict[str, Any]:
        return await self._call(
            f"writing the status of VideoJob {namespace}/{name}", self.custom.patch_namespaced_custom_object_status,
            API_GROUP, API_VERSION, namespace, PLURAL, name, {"status": dict(status)},
        )

    async def set_videojob_finalizers(self, namespace: str, name: str, finalizers: list[str], resource_version: str) -> None:
        # resourceVersion makes the merge patch conditional: a concurrent change answers 409 and we retry.
        body = {"metadata": {"finalizers": finalizers, "resourceVersion": resource_version}}
        await self._call(f"updating the finalizers of VideoJob {namespace}/{name}", self.custom.patch_namespaced_custom_object,
                         API_GROUP, API_VERSION, namespace, PLURAL, name, body)

    async def delete_videojob(self, namespace: str, name: str, uid: str) -> None:
        options = {"preconditions": {"uid": uid}, "propagationPolicy": "Background"}
        try:
            await self._call(f"deleting finished VideoJob {namespace}/{name}", self.custom.delete_namespaced_custom_object,
                             API_GROUP, API_VERSION, namespace, PLURAL, name, body=options)
        except TransientApiError as error:
            if isinstance(error.__cause__, ApiException) and error.__cause__.status in (404, 409):
                return
            raise

    def follow_log(self, namespace: str, pod: str, container: str, tail_lines: int) -> Iterator[str]:
        """Lines of a container's log as they come (blocking; run it in a thread)."""
        response = self.core.read_namespaced_pod_log(
            pod, namespace, container=container, follow=True, tail_lines=tail_lines, _preload_content=False,
        )
        try:
            buffer = b""
            for chunk in response.stream(4096, decode_content=True):
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    yield line.decode(errors="replace")
            if buffer:
                yield buffer.decode(errors="replace")
        finally:
            response.release_conn()
