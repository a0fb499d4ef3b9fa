"""The gateway app with its API server swapped for an in-memory one (``app.dependency_overrides``).

The in-memory API server keeps VideoJobs and Secrets per namespace with resourceVersions,
answers 404/409 as the real one does, pages lists with continue tokens, and feeds
watchers every change after a version. The integration tests run the same routes
against the real API server; these check the gateway's own decisions quickly.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import itertools
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from videojob.api.app import create_app
from videojob.api.dependencies import get_kube, get_settings
from videojob.api.kube import ApiServerError
from videojob.api.settings import GatewaySettings
from videojob.api.tenants import key_secret, new_key


class MemoryKube:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}
        self.secrets: dict[tuple[str, str], dict[str, Any]] = {}
        self.versions = itertools.count(100)
        self.history: list[dict[str, Any]] = []  # watch events, in order
        self.changed = asyncio.Event()
        self.quota: dict[str, int] = {}
        self.calls: list[str] = []

    # --- what tests do ----------------------------------------------------------------

    def add_tenant(self, namespace: str, keys_namespace: str = "videojob-keys") -> str:
        key_id, key = new_key()
        secret = key_secret(key_id, key, namespace, keys_namespace)
        self.secrets[(keys_namespace, secret["metadata"]["name"])] = secret  # type: ignore[index]
        return key

    def set_status(self, namespace: str, name: str, **status: Any) -> dict[str, Any]:
        body = self.objects[(namespace, name)]
        body["status"] = {**(body.get("status") or {}), **status}
        return self._changed("MODIFIED", body)

    def _changed(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        body["metadata"]["resourceVersion"] = str(next(self.versions))
        self.history.append({"type": kind, "object": copy.deepcopy(body)})
        self.changed.set()
        self.changed = asyncio.Event()
        return copy.deepcopy(body)

    # --- the Kube interface -------------------------------------------------------------

    def _get(self, namespace: str, name: str) -> dict[str, Any]:
        if (namespace, name) not in self.objects:
            raise ApiServerError(404, "NotFound", f'videojobs.videojob.dev "{name}" not found')
        return self.objects[(namespace, name)]

    async def get_videojob(self, namespace: str, name: str) -> dict[str, Any]:
        self.calls.append(f"get {namespace}/{name}")
        return copy.deepcopy(self._get(namespace, name))

    async def list_videojobs(
        self, namespace: str, *, limit: int | None = None, cont: str | None = None, label_selector: str | None = None
    ) -> dict[str, Any]:
        self.calls.append(f"list {namespace}")
        items = sorted(
            (body for (ns, _), body in self.objects.items() if ns == namespace),
            key=lambda body: body["metadata"]["name"],
        )
        if label_selector:
            key, _, value = label_selector.partition("=")
            items = [body for body in items if (body["metadata"].get("labels") or {}).get(key) == value]
        if cont:
            try:
                start = base64.b64decode(cont, validate=True).decode()
            except ValueError:
                raise ApiServerError(400, "BadRequest", "continue key is not valid") from None
            items = [body for body in items if body["metadata"]["name"] > start]
        page, rest = (items[:limit], items[limit:]) if limit else (items, [])
        token = base64.b64encode(page[-1]["metadata"]["name"].encode()).decode() if rest else ""
        metadata = {"continue": token} if token else {"resourceVersion": str(next(self.versions))}
        return {"items": copy.deepcopy(page), "metadata": metadata}

    async def list_videojob_metadata(self, namespace: str, label_selector: str) -> list[dict[str, Any]]:
        listed = await self.list_videojobs(namespace, label_selector=label_selector)
        return [{"metadata": item["metadata"]} for item in listed["items"]]

    async def create_videojob(self, namespace: str, body: Mapping[str, Any]) -> dict[str, Any]:
        name = body["metadata"]["name"]
        self.calls.append(f"create {namespace}/{name}")
        if (namespace, name) in self.objects:
            raise ApiServerError(409, "AlreadyExists", f'videojobs.videojob.dev "{name}" already exists')
        count = sum(1 for ns, _ in self.objects if ns == namespace)
        if namespace in self.quota and count >= self.quota[namespace]:
            limit = self.quota[namespace]
            raise ApiServerError(
                403,
                "Forbidden",
                f'videojobs.videojob.dev "{name}" is forbidden: exceeded quota: '
                f"videojob-videos, requested: count/videojobs.videojob.dev=1, used: "
                f"count/videojobs.videojob.dev={count}, limited: count/videojobs.videojob.dev={limit}",
            )
        stored = copy.deepcopy(dict(body))
        stored["metadata"] |= {
            "namespace": namespace,
            "uid": f"uid-{name}",
            "creationTimestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        self.objects[(namespace, name)] = stored
        return self._changed("ADDED", stored)

    async def patch_videojob(self, namespace: str, name: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        body = self._get(namespace, name)
        body["spec"] = {**body["spec"], **patch.get("spec", {})}
        return self._changed("MODIFIED", body)

    async def delete_videojob(self, namespace: str, name: str) -> dict[str, Any]:
        self.calls.append(f"delete {namespace}/{name}")
        body = self._get(namespace, name)
        del self.objects[(namespace, name)]
        return self._changed("DELETED", body)

    async def watch_videojob(
        self, namespace: str, name: str, resource_version: str | None, timeout_seconds: int = 3600
    ) -> AsyncIterator[dict[str, Any]]:
        seen = int(resource_version or 0)
        while True:
            waiting = self.changed
            for event in list(self.history):
                meta = event["object"]["metadata"]
                if int(meta["resourceVersion"]) > seen and meta["name"] == name and meta["namespace"] == namespace:
                    seen = int(meta["resourceVersion"])
                    yield copy.deepcopy(event)
            await waiting.wait()

    async def watch_namespace_videojobs(
        self, namespace: str, resource_version: str | None, timeout_seconds: int = 3600
    ) -> AsyncIterator[dict[str, Any]]:
        seen = int(resource_version or 0)
        while True:
            waiting = self.changed
            for event in list(self.history):
                meta = event["object"]["metadata"]
                if int(meta["resourceVersion"]) > seen and meta["namespace"] == namespace:
                    seen = int(meta["resourceVersion"])
                    yield copy.deepcopy(event)
            await waiting.wait()

    async def get_secret(self, namespace: str, name: str) -> dict[str, Any]:
        if (namespace, name) not in self.secrets:
            raise ApiServerError(404, "NotFound", f'secrets "{name}" not found')
        return copy.deepcopy(self.secrets[(namespace, name)])

    async def ready(self) -> bool:
        return True

    async def close(self) -> None:
        pass


@pytest.fixture
def kube() -> MemoryKube:
    return MemoryKube()


@pytest.fixture
def settings() -> GatewaySettings:
    return GatewaySettings(
        s3_endpoint="http://127.0.0.1:9",
        s3_access_key="minio-user",
        s3_secret_key="minio-secret",
        rate_per_minute=60,
        rate_burst=5,
        daily_cap=0,
        read_cache=False,  # the in-memory server's events are set from the test's thread; the copy has its own test
        key_cache_seconds=0,
    )


@pytest.fixture
def app(kube: MemoryKube, settings: GatewaySettings):
    application = create_app()
    application.dependency_overrides[get_kube] = lambda: kube
    application.dependency_overrides[get_settings] = lambda: settings
    return application


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def tenant_a(kube: MemoryKube) -> dict[str, str]:
    return {"Authorization": f"Bearer {kube.add_tenant('team-a')}"}


@pytest.fixture
def tenant_b(kube: MemoryKube) -> dict[str, str]:
    return {"Authorization": f"Bearer {kube.add_tenant('team-b')}"}
