"""The reconciler's glue, against an in-memory stand-in for the API (the real one is in tests/integration)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from videojob.contract import ProgressEvent
from videojob.operator.builders import build_renderer_job
from videojob.operator.cleanup import OutputCleaner
from videojob.operator.reconciler import Reconciler
from videojob.operator.settings import OperatorSettings
from videojob.operator.world import World


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

    async def set_job_backoff_limit(self, namespace, name, limit):
        raise AssertionError("not expected here")

    async def patch_videojob_status(self, namespace, name, status):
        self.version += 1
        self.status_patches.append((time.monotonic(), dict(status)))
        return {"metadata": {"resourceVersion": str(self.version)}, "status": dict(status)}

    async def set_videojob_finalizers(self, *args):
        raise AssertionError("not expected here")

    async def delete_videojob(self, *args):
        raise AssertionError("not expected here")

    def follow_log(self, *args):
        raise AssertionError("not expected here")

    def close(self):
        pass


def _world(kube, videojobs=(), jobs=(), pods=()):
    index = lambda items, key: {key(i): [i] for i in items}  # noqa: E731 - kopf's Index maps a key to a store
    return World(
        videojobs=index(videojobs, lambda v: v["metadata"]["uid"]),
        jobs={uid: [job] for uid, job in jobs},
        pods={uid: [pod] for uid, pod in pods},
        priorities={},
    )


def _reconciler(monkeypatch, **env):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    api = RecordingApi()
    events = []
    settings = OperatorSettings()
    reconciler = Reconciler(settings, api, OutputCleaner(settings), events=lambda body, *event: events.append(event))
    return reconciler, api, events


def _named_events(reconciler):
    """Events with the name of the VideoJob each was posted on."""
    named = []
    reconciler.events = lambda body, *event: named.append((body["metadata"]["name"], *event))
    return named


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
    starting = kube.pod(phase="Pending", state={"waiting": {"reason": "ContainerCreating"}})
    reconciler.bind(
        _world(kube, videojobs=[videojob], jobs=[(kube.UID, kube.job(active=1))], pods=[(kube.UID, starting)])
    )
    asyncio.run(reconciler.reconcile(kube.UID))
    asyncio.run(reconciler.reconcile(kube.UID))
    # Only the spec ConfigMap is made sure of, once: a crash may have come between the two creates (its Pod has
    # not started, so it may be waiting for it; one that started had it: see test_creates_are_expected.py).
    assert [m["kind"] for m in api.created] == ["ConfigMap"]


def test_over_the_cap_a_videojob_waits_with_its_position(kube, monkeypatch):
    reconciler, api, _ = _reconciler(monkeypatch, VIDEOJOB_MAX_CONCURRENT_RENDERS="1")
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
    reconciler.bind(
        _world(kube, videojobs=[kube.videojob()], jobs=[(kube.UID, kube.job(active=1))], pods=[(kube.UID, pod)])
    )

    async def main():
        reconciler.start()
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


def test_events_from_the_workers_name_the_videojob_they_are_about_without_any_handler_context(kube, monkeypatch):
    """Kicks from a handler, the resync loop or a timer all end in a worker; nothing of the kicker's context is used."""
    reconciler, api, _ = _reconciler(monkeypatch)
    named = _named_events(reconciler)
    one, other = kube.videojob(name="one"), kube.videojob(name="other")
    other["metadata"]["uid"] = "other-uid"

    async def main():
        reconciler.start()
        reconciler.bind(_world(kube, videojobs=[one, other]))
        reconciler.kick(kube.UID)
        reconciler.kick("other-uid")
        while len(named) < 4:
            await asyncio.sleep(0.01)
        await reconciler.close()

    asyncio.run(main())
    created = {name: message for name, _, reason, message in named if reason == "JobCreated"}
    jobs = {
        m["metadata"]["labels"]["videojob.dev/name"]: m["metadata"]["name"] for m in api.created if m["kind"] == "Job"
    }
    assert created == {"one": f"Created renderer Job {jobs['one']}", "other": f"Created renderer Job {jobs['other']}"}
    assert sorted(name for name, _, reason, _ in named if reason == "Pending") == ["one", "other"]


def test_a_failed_reconcile_is_retried_by_the_work_queue_and_a_success_resets_the_backoff(kube, monkeypatch):
    from videojob.operator.errors import TransientApiError

    reconciler, api, _ = _reconciler(monkeypatch)
    writes = api.patch_videojob_status
    failures = [
        TransientApiError("while writing the status of VideoJob team-a/lesson: 503 Service Unavailable", delay=0.05)
    ]

    async def flaky_write(*args):
        if failures:
            raise failures.pop()
        return await writes(*args)

    api.patch_videojob_status = flaky_write

    async def main():
        reconciler.start()
        reconciler.bind(_world(kube, videojobs=[kube.videojob()]))
        began = time.monotonic()
        reconciler.kick(kube.UID)
        while not api.status_patches:
            assert time.monotonic() - began < 2, "the failed reconcile was not retried"
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        await reconciler.close()

    asyncio.run(main())
    assert api.status_patches[-1][1]["phase"] == "Pending"
    # The retry asks for the same Job again (the real API answers 409): never a second name.
    assert len({m["metadata"]["name"] for m in api.created if m["kind"] == "Job"}) == 1
    assert reconciler.queue.num_requeues(kube.UID) == 0
