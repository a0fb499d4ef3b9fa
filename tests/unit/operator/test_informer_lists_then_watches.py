"""The renderer Jobs and Pods the reconciler sees: listed page by page, then kept current by a watch.

An in-memory stand-in plays the API server's list and watch answers here; the real
API server drives the same code in every test of tests/integration/operator.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

from videojob.operator import informer as informer_module
from videojob.operator.errors import TransientApiError
from videojob.operator.informer import Informer, OwnedObjects

LABEL = "videojob.dev/uid"


def _pod(uid: str, owner: str, version: int, phase: str = "Pending") -> dict[str, Any]:
    return {
        "metadata": {"uid": uid, "name": uid, "resourceVersion": str(version), "labels": {LABEL: owner}},
        "status": {"phase": phase},
    }


class ScriptedApi:
    """Lists answer from ``pages``; each watch plays the next script (events, or an exception), then the end."""

    def __init__(self, pages: list[list[dict[str, Any]]], watches: list[Any]) -> None:
        self.pages, self.watches = pages, watches
        self.lists: list[dict[str, str]] = []
        self.watch_params: list[dict[str, str]] = []
        self.finished = asyncio.Event()

    async def list_page(self, path: str, params: Mapping[str, str]) -> dict[str, Any]:
        self.lists.append(dict(params))
        index = int(params.get("continue") or 0)
        items = self.pages[index]
        more = {"continue": str(index + 1)} if index + 1 < len(self.pages) else {}
        return {"items": items, "metadata": {"resourceVersion": str(100 + len(self.lists)), **more}}

    async def watch(self, path: str, params: Mapping[str, str]) -> AsyncIterator[dict[str, Any]]:
        self.watch_params.append(dict(params))
        if not self.watches:
            self.finished.set()
            await asyncio.Event().wait()  # a quiet watch, until the test ends it
        script = self.watches.pop(0)
        if isinstance(script, Exception):
            raise script
        for event in script:
            yield event


def _run(api: ScriptedApi) -> tuple[OwnedObjects, list[tuple[str, str, str]]]:
    store, seen = OwnedObjects(), []
    informer = Informer(
        api, "/api/v1/pods", "managed", LABEL, lambda pod: {"metadata": pod["metadata"], "status": pod["status"]},
        store, lambda kind, owner, pod: seen.append((kind, owner, pod["metadata"]["uid"])),
    )  # fmt: skip

    async def main() -> None:
        await informer.sync()
        task = asyncio.create_task(informer.run())
        await asyncio.wait_for(api.finished.wait(), 5)
        task.cancel()

    asyncio.run(main())
    return store, seen


def test_every_page_is_listed_and_the_objects_are_kept_by_their_videojob():
    api = ScriptedApi([[_pod("p1", "vj-a", 1)], [_pod("p2", "vj-a", 2), _pod("p3", "vj-b", 3)]], [])
    store, seen = _run(api)
    assert [params.get("continue") for params in api.lists] == [None, "1"]
    assert sorted(pod["metadata"]["uid"] for pod in store["vj-a"]) == ["p1", "p2"]
    assert [pod["metadata"]["uid"] for pod in store["vj-b"]] == ["p3"]
    assert seen == [("ADDED", "vj-a", "p1"), ("ADDED", "vj-a", "p2"), ("ADDED", "vj-b", "p3")]
    assert api.watch_params[0]["resourceVersion"] == "102" and api.watch_params[0]["labelSelector"] == "managed"


def test_watch_events_change_the_store_and_a_watch_that_ends_resumes_where_it_stopped():
    events = [
        {"type": "ADDED", "object": _pod("p2", "vj-a", 150)},
        {"type": "MODIFIED", "object": _pod("p1", "vj-a", 151, phase="Running")},
        {"type": "DELETED", "object": _pod("p2", "vj-a", 152)},
        {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "160"}}},
    ]
    api = ScriptedApi([[_pod("p1", "vj-a", 1)]], [events])
    store, seen = _run(api)
    assert [(pod["metadata"]["uid"], pod["status"]["phase"]) for pod in store["vj-a"]] == [("p1", "Running")]
    assert seen[1:] == [("ADDED", "vj-a", "p2"), ("MODIFIED", "vj-a", "p1"), ("DELETED", "vj-a", "p2")]
    assert [params["resourceVersion"] for params in api.watch_params] == ["101", "160"]
    assert len(api.lists) == 1  # resumed, not listed again


def test_after_410_gone_it_lists_again_and_reports_what_vanished_meanwhile():
    gone = [{"type": "ERROR", "object": {"kind": "Status", "code": 410, "message": "too old resource version"}}]
    api = ScriptedApi([[_pod("p1", "vj-a", 1), _pod("p2", "vj-b", 2)]], [gone])
    listed = api.list_page

    async def list_without_p2(path: str, params: Mapping[str, str]) -> dict[str, Any]:
        page = await listed(path, params)
        if len(api.lists) > 1:
            page["items"] = [item for item in page["items"] if item["metadata"]["uid"] != "p2"]
        return page

    api.list_page = list_without_p2  # type: ignore[method-assign]
    store, seen = _run(api)
    assert len(api.lists) == 2
    assert "vj-b" not in store and [pod["metadata"]["uid"] for pod in store["vj-a"]] == ["p1"]
    assert ("DELETED", "vj-b", "p2") in seen
    assert api.watch_params[-1]["resourceVersion"] == "102"


def test_a_failed_watch_is_retried(monkeypatch):
    monkeypatch.setattr(informer_module, "RETRY_DELAYS", (0.01,))
    failure = TransientApiError("while watching pods: 503")
    api = ScriptedApi([[]], [failure, [{"type": "ADDED", "object": _pod("p9", "vj-c", 9)}]])
    store, seen = _run(api)
    assert seen == [("ADDED", "vj-c", "p9")] and len(api.watch_params) == 3
    assert [pod["metadata"]["uid"] for pod in store["vj-c"]] == ["p9"]


def test_through_a_long_outage_the_watch_is_tried_again_at_least_every_two_seconds(monkeypatch):
    """An API server away for a while (a restart: 13 s on the real node) is watched again within 2 s of its return."""
    slept: list[float] = []
    real_sleep = asyncio.sleep

    async def noted(delay: float, *args: Any) -> None:
        slept.append(delay)
        await real_sleep(0)

    monkeypatch.setattr(informer_module.asyncio, "sleep", noted)
    outage = [TransientApiError("while watching pods: connection refused") for _ in range(10)]
    api = ScriptedApi([[]], [*outage, [{"type": "ADDED", "object": _pod("p9", "vj-c", 9)}]])
    _, seen = _run(api)
    assert seen == [("ADDED", "vj-c", "p9")]
    assert len(slept) == 10 and max(slept) <= 2.0, slept
