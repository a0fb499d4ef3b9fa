"""The VideoJobs and their renderer Jobs and Pods, listed then watched on the event loop, without kopf's
per-event machinery.

Jobs and Pods bring about six watch events per VideoJob (created, scheduled, running,
the Job controller's counts), against two for the VideoJob itself. Through kopf each one
cost a worker task, a cause, a logger, an index handler and an event handler invocation:
in a burst of VideoJobs on kwok nodes (benchmarks/operator_10k.py), kopf's own code was
most of the operator's CPU; and a restarted operator ran all of that once per VideoJob
before its first reconcile (over two minutes at 10,000). Here an event is one JSON line
decoded, trimmed (:mod:`.slim`) into :class:`OwnedObjects`, and handed to ``on_event``.

Restart safety: :mod:`.startup` starts the reconciler only once every informer's
:meth:`Informer.sync` has listed its objects, so the first reconcile already sees every
Job the operator created before. A watch that ends is resumed from the last
resourceVersion it saw (bookmarks keep it fresh); one the server refuses as too old
(410 Gone) starts again from a new list.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any, Protocol

from .errors import OperatorError

logger = logging.getLogger(__name__)

PAGE_SIZE = 500
WATCH_SECONDS = 300  # the server ends a watch after this long; it is resumed at once
# After a failed list or watch; the last one repeats, so a restarted API server is found within 2 s
# of its return (doubling to 30 s, a Pod's end reached the status 21 s after the server was back).
RETRY_DELAYS = (0.5, 1, 2)

Slim = Callable[[Mapping[str, Any]], dict[str, Any]]
OwnerOf = Callable[[Mapping[str, Any]], str | None]  # the uid an object is kept under, from its metadata
OnEvent = Callable[[str, str, Mapping[str, Any]], None]  # (ADDED | MODIFIED | DELETED, owner uid, the object)


class CollectionApi(Protocol):
    async def list_page(self, path: str, params: Mapping[str, str]) -> dict[str, Any]: ...
    def watch(self, path: str, params: Mapping[str, str]) -> AsyncIterator[dict[str, Any]]: ...


class Gone(Exception):
    """The server no longer has the resourceVersion the watch asked for: list again."""


class OwnedObjects(Mapping[str, list[Mapping[str, Any]]]):
    """Trimmed objects by the uid of the VideoJob that owns them (their uid label), as kopf's index was."""

    def __init__(self) -> None:
        self._by_owner: dict[str, dict[str, Mapping[str, Any]]] = {}
        self._owner_of: dict[str, str] = {}

    def __getitem__(self, owner: str) -> list[Mapping[str, Any]]:
        return list(self._by_owner[owner].values())

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_owner)

    def __len__(self) -> int:
        return len(self._by_owner)

    def put(self, owner: str, uid: str, obj: Mapping[str, Any]) -> None:
        if self._owner_of.get(uid, owner) != owner:
            self.remove(uid)
        self._by_owner.setdefault(owner, {})[uid] = obj
        self._owner_of[uid] = owner

    def remove(self, uid: str) -> str | None:
        """Forget the object; the uid of the VideoJob it belonged to, if it was here."""
        owner = self._owner_of.pop(uid, None)
        if owner is not None:
            objects = self._by_owner[owner]
            objects.pop(uid, None)
            if not objects:
                del self._by_owner[owner]
        return owner


def own_uid(metadata: Mapping[str, Any]) -> str | None:
    """Keep an object under its own uid (the VideoJobs themselves)."""
    return metadata.get("uid")


class Informer:
    """One collection (``path``, e.g. a namespace's Jobs) with a label selector, kept in ``store`` by owner:
    the value of the label ``owner`` names, or what ``owner(metadata)`` returns."""

    def __init__(
        self,
        api: CollectionApi,
        path: str,
        selector: str,
        owner: str | OwnerOf,
        slim: Slim,
        store: OwnedObjects,
        on_event: OnEvent,
    ) -> None:
        self.api, self.path, self.selector = api, path, selector
        self.owner_of: OwnerOf = (
            (lambda metadata: (metadata.get("labels") or {}).get(owner)) if isinstance(owner, str) else owner
        )
        self.slim, self.store, self.on_event = slim, store, on_event
        self._seen: set[str] = set()  # uids of this collection's objects in the store
        self._version = ""
        self.synced = asyncio.Event()  # set once the first list is in the store

    async def sync(self) -> None:
        """List every object (page by page), replace this collection's part of the store; retried until it works."""
        for attempt in itertools.count():
            try:
                await self._list()
                self.synced.set()
                return
            except (OperatorError, ValueError) as error:  # ValueError: a line that is not JSON
                delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
                logger.warning("listing %s failed (retrying in %.1f s): %s", self.path, delay, error)
                await asyncio.sleep(delay)

    async def run(self) -> None:
        """Watch from the last list, forever: resumed after it ends, listed again after 410 Gone."""
        failures = 0
        while True:
            try:
                await self._watch()
                failures = 0
            except Gone:
                await self.sync()
            except (OperatorError, ValueError) as error:
                delay = RETRY_DELAYS[min(failures, len(RETRY_DELAYS) - 1)]
                failures += 1
                logger.warning("watching %s failed (retrying in %.1f s): %s", self.path, delay, error)
                await asyncio.sleep(delay)

    async def _list(self) -> None:
        # Each page goes into the store as it comes (trimmed): holding a whole list of raw objects first took
        # the operator past 900 MiB when it restarted with 10,000 renderer Jobs and Pods.
        before, listed = set(self._seen), set()
        params = {"limit": str(PAGE_SIZE)} | ({"labelSelector": self.selector} if self.selector else {})
        while True:
            page = await self.api.list_page(self.path, params)
            for item in page.get("items") or []:
                listed.add(item["metadata"]["uid"])
                self._apply("ADDED", item)
            metadata = page.get("metadata") or {}
            if not metadata.get("continue"):
                break
            params = params | {"continue": metadata["continue"]}
        self._version = str(metadata.get("resourceVersion") or "")
        for uid in before - listed:  # gone while nobody watched
            self._seen.discard(uid)
            owner = self.store.remove(uid)
            if owner is not None:
                self.on_event("DELETED", owner, {"metadata": {"uid": uid}})

    async def _watch(self) -> None:
        params = {"resourceVersion": self._version, "timeoutSeconds": str(WATCH_SECONDS)} | (
            {"labelSelector": self.selector} if self.selector else {}
        )
        async for event in self.api.watch(self.path, params):
            kind, obj = event.get("type"), event.get("object") or {}
            if kind == "ERROR":
                if obj.get("code") == 410:
                    raise Gone(obj.get("message") or "410 Gone")
                raise _WatchError(f"while watching {self.path}: {obj.get('message') or obj}")
            version = (obj.get("metadata") or {}).get("resourceVersion")
            if version:
                self._version = str(version)
            if kind in ("ADDED", "MODIFIED", "DELETED"):
                self._apply(kind, obj)

    def _apply(self, kind: str, obj: Mapping[str, Any]) -> None:
        metadata = obj["metadata"]
        owner = self.owner_of(metadata)
        if kind == "DELETED" or not owner:
            self._seen.discard(metadata["uid"])
            owner = self.store.remove(metadata["uid"]) or owner
        else:
            self.store.put(owner, metadata["uid"], self.slim(obj))
            self._seen.add(metadata["uid"])
        if owner:
            self.on_event(kind, owner, obj)


class _WatchError(OperatorError):
    pass
