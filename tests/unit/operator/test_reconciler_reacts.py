"""The reconciler's glue, against an in-memory stand-in for the API (the real one is in tests/integration)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from videojob.contract import ProgressEvent
from videojob.operator.builders import build_renderer_job
from videojob.operator.cleanup import OutputCleaner
from videojob.operator.reconciler import Reconciler, World
from videojob.operator.settings import OperatorSettings


class RecordingApi:
    """Answers like the API server would, and remembers every write."""

    def __init__(self) -> None:
        self.created: list[dict[str, Any]] = []
        self.status_patches: list[tuple[float, dict[str, Any]]] = []
        self.version = 100

    async def create_if_absent(self, manifest):
        self.created.append(manifest)
        return True

    async def set_job_suspend(self, namespace, name, suspend):
        raise AssertionError("not expected here")

    async def patch_videojob_status(self, namespace, name, status):
        self.version += 1
        self.status_patches.append((time.monotonic(), dict(status)))
        return {"metadata": {"resourceVersion": str(self.version)}, "status": dict(status)}

    async def set_videojob_finalizers(self, *args):
        raise AssertionError("not expected here")

    def close(self):
        pass


def _world(kube, videojobs=(), jobs=(), pods=()):
    index = lambda items, key: {key(i): [i] for i in items}  # noqa: E731 - kopf's Index maps a key to a store
    return World(videojobs=index(videojobs, lambda v: v["metadata"]["uid"]),
                 jobs={uid: [job] for uid, job in jobs}, pods={uid: [pod] for uid, pod in pods}, priorities={})


def _reconciler(monkeypatch, **env):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    api = RecordingApi()
    events = []
    settings = OperatorSettings()
    reconciler = Reconciler(settings, api, OutputCleaner(settings), events=lambda body, *event: events.append(event))
    return reconciler, api, events


def test_a_new_videojob_gets_its_configmap_and_job_and_a_pending_status(kube, monkeypatch):
    reconciler, api, events = _reconciler(monkeypatch)
    videojob = kube.videojob()
    reconciler.bind(_world(kube, videojobs=[videojob]))

    asyncio.run(reconciler.reconcile(kube.UID))
    assert [m["kind"] for m in api.created] == ["ConfigMap", "Job"]
    assert api.created[1] == build_renderer_job(videojob, OperatorSettings())
    assert api.status_patches[-1][1]["phase"] == "Pending"
    assert ("Normal", "JobCreated", f"Created renderer Job {api.created[1]['metadata']['name']}") in events
    assert ("Normal", "Pending", "Starting the renderer") in events


def test_after_a_restart_an_existing_job_is_never_created_again(kube, monkeypatch):
    reconciler, api, _ = _reconciler(monkeypatch)
    videojob = kube.videojob()
    reconciler.bind(_world(kube, videojobs=[videojob], jobs=[(kube.UID, kube.job(active=1))], pods=[(kube.UID, kube.pod())]))
    asyncio.run(reconciler.reconcile(kube.UID))
    asyncio.run(reconciler.reconcile(kube.UID))
    # Only the spec ConfigMap is made sure of, once: a crash may have come between the two creates.
    assert [m["kind"] for m in api.created] == ["ConfigMap"]


def test_over_the_cap_a_videojob_waits_with_its_position(kube, monkeypatch):
    reconciler, api, events = _reconciler(monkeypatch, VIDEOJOB_MAX_CONCURRENT_RENDERS="1")
    running = kube.videojob(name="running")
    running["metadata"]["uid"] = "running-uid"
    waiting = kube.videojob(name="waiting")
    reconciler.bind(_world(kube, videojobs=[running, waiting], jobs=[("running-uid", kube.job(active=1))]))

    async def main():
        await reconciler.reconcile(kube.UID)
    asyncio.run(main())
    assert api.created == []
    assert api.status_patches[-1][1]["phase"] == "Queued"
    assert api.status_patches[-1][1]["stage"] == "Queued for a render slot: position 1 of 1"


def test_a_progress_event_reaches_the_status_within_two_seconds(kube, monkeypatch):
    reconciler, api, events = _reconciler(monkeypatch)
    pod = kube.pod()
    reconciler.bind(_world(kube, videojobs=[kube.videojob()], jobs=[(kube.UID, kube.job(active=1))], pods=[(kube.UID, pod)]))

    async def main():
        await reconciler.reconcile(kube.UID)
        sent = time.monotonic()
        event = ProgressEvent(phase="Assembling", progress=91, stage="Assembling the video")
        if reconciler.board.record(kube.UID, pod["metadata"]["uid"], event):
            reconciler.kick(kube.UID)
        while not any(patch.get("phase") == "Assembling" for _, patch in api.status_patches):
            assert time.monotonic() - sent < 2, "no status write within 2 s"
            await asyncio.sleep(0.01)
        await reconciler.close()
        return sent

    sent = asyncio.run(main())
    written_at, patch = next((t, p) for t, p in api.status_patches if p.get("phase") == "Assembling")
    assert patch["stage"] == "Assembling the video" and patch["progress"] == 91
    assert written_at - sent < 2
    assert ("Normal", "Assembling", "Assembling the video") in events


def test_reconciles_kicked_from_outside_a_handler_still_see_the_handlers_context(kube, monkeypatch):
    """kopf's Event poster lives in context variables; the resync loop has none of them."""
    import contextvars

    poster = contextvars.ContextVar("poster")
    reconciler, api, _ = _reconciler(monkeypatch)
    seen = []
    reconciler.events = lambda body, *event: seen.append(poster.get("MISSING"))

    async def main():
        async def handler():  # what kopf does: set the poster, then call our handler
            poster.set("kopf's event queue")
            reconciler.bind(_world(kube, videojobs=[kube.videojob()]))

        await asyncio.get_running_loop().create_task(handler())
        reconciler.kick(kube.UID)  # from the resync loop: no poster in this context
        while not seen:
            await asyncio.sleep(0.01)
        await reconciler.close()

    asyncio.run(main())
    assert set(seen) == {"kopf's event queue"}
