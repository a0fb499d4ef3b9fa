"""Status reads from memory: one watch per tenant namespace keeps a copy of its VideoJobs.

``GET /v1/videos/{id}`` is what pollers call every second, so it is served from this copy
instead of a round trip to the API server per read. The copy is the API server's own
data, a watch behind (milliseconds); everything else (writes, content, event streams)
reads the API server directly. What the copy cannot answer goes to the API server too:
before the namespace's first list has arrived, and any id it does not hold (a video
created a moment ago by someone else, or a wrong id, whose 404 the API server gives).
The gateway's own writes go into the copy at once, so a caller reads its own writes.

Only what the video object needs is kept: a Markdown lecture or a storyboard (up to
64 KiB each) is dropped from the copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from .kube import ApiServerError, ApiServerUnavailable, Kube

logger = logging.getLogger(__name__)
IDLE_SECONDS = 600.0  # a namespace nobody read for this long stops being watched


def _slim(videojob: Mapping[str, Any]) -> dict[str, Any]:
    slim = dict(videojob)
    metadata = dict(slim.get("metadata") or {})
    metadata.pop("managedFields", None)
    slim["metadata"] = metadata
    spec = dict(slim.get("spec") or {})
    source = spec.get("source") or {}
    spec["source"] = {"prompt": source["prompt"]} if "prompt" in source else {}
    slim["spec"] = spec
    return slim


def _version(videojob: Mapping[str, Any]) -> int:
    try:
        return int((videojob.get("metadata") or {}).get("resourceVersion") or 0)
    except ValueError:
        return 0


class NamespaceCopy:
    def __init__(self, kube: Kube, namespace: str) -> None:
        self.kube, self.namespace = kube, namespace
        self.items: dict[str, dict[str, Any]] = {}
        self.synced = False
        self.last_read = asyncio.get_running_loop().time()
        self.task = asyncio.create_task(self._run(), name=f"videojob-cache-{namespace}")

    def put(self, videojob: Mapping[str, Any]) -> None:
        name = videojob["metadata"]["name"]
        held = self.items.get(name)
        if held is None or _version(videojob) >= _version(held):
            self.items[name] = _slim(videojob)

    async def _run(self) -> None:
        while True:
            try:
                await self._list_and_watch()
            except asyncio.CancelledError:
                raise
            except (ApiServerError, ApiServerUnavailable) as error:
                logger.warning("the copy of namespace %s restarts after: %s", self.namespace, error)
            self.synced = False
            await asyncio.sleep(1.0)

    async def _list_and_watch(self) -> None:
        listed = await self.kube.list_videojobs(self.namespace)
        self.items = {item["metadata"]["name"]: _slim(item) for item in listed.get("items", [])}
        version = (listed.get("metadata") or {}).get("resourceVersion")
        self.synced = True
        while True:
            async for event in self.kube.watch_namespace_videojobs(self.namespace, version):
                kind, body = event.get("type"), event.get("object") or {}
                if kind == "ERROR":  # 410: too old; list again
                    return
                version = (body.get("metadata") or {}).get("resourceVersion", version)
                if kind == "DELETED":
                    self.items.pop(body["metadata"]["name"], None)
                elif kind in ("ADDED", "MODIFIED"):
                    self.put(body)


class VideoCache:
    """The copies, one per tenant namespace, started by the first read of that namespace."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube
        self.copies: dict[str, NamespaceCopy] = {}

    def _copy(self, namespace: str) -> NamespaceCopy:
        copy = self.copies.get(namespace)
        if copy is None or copy.task.done():
            copy = self.copies[namespace] = NamespaceCopy(self.kube, namespace)
        copy.last_read = asyncio.get_running_loop().time()
        return copy

    async def get(self, namespace: str, name: str) -> dict[str, Any]:
        self.forget_idle()
        copy = self._copy(namespace)
        held = copy.items.get(name) if copy.synced else None
        if held is not None:
            return held
        videojob = await self.kube.get_videojob(namespace, name)
        copy.put(videojob)
        return videojob

    def wrote(self, videojob: Mapping[str, Any]) -> None:
        """The gateway's own write, visible to its next read."""
        copy = self.copies.get(videojob["metadata"]["namespace"])
        if copy is not None:
            copy.put(videojob)

    def deleted(self, namespace: str, name: str) -> None:
        copy = self.copies.get(namespace)
        if copy is not None:
            copy.items.pop(name, None)

    def forget_idle(self) -> None:
        now = asyncio.get_running_loop().time()
        for namespace, copy in list(self.copies.items()):
            if now - copy.last_read > IDLE_SECONDS:
                copy.task.cancel()
                del self.copies[namespace]

    async def close(self) -> None:
        for copy in self.copies.values():
            copy.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await copy.task
        self.copies.clear()
