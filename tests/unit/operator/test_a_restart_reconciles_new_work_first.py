"""A restarted operator is live at once, reconciles what needs it first, and looks at every VideoJob once.

At 10,000 VideoJobs the starting commit answered its health probe only after listing every
Job and Pod (64.7 s under load 17), then reconciled in the order kopf handed it the
VideoJobs: a VideoJob submitted during the restart waited behind 10,000 that needed
nothing. The API server is an in-memory stand-in here (the lists are paged as the real
one pages them); benchmarks/operator_10k.py measures the real thing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

from unit.operator.test_reconciler_reacts import _reconciler

from videojob.operator import handlers, startup
from videojob.operator.informer import Informer, OwnedObjects, own_uid
from videojob.operator.workqueue import LOW_PRIORITY_AFTER, WorkQueue
from videojob.operator.world import World


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 10))


async def handed_out(queue: WorkQueue[str], count: int) -> list[str]:
    keys = []
    for _ in range(count):
        key = await queue.get()
        assert key is not None
        keys.append(key)
        queue.done(key)
    return keys


def test_a_key_of_normal_priority_is_handed_out_before_the_low_ones_that_came_first():
    async def main():
        queue: WorkQueue[str] = WorkQueue()
        for number in range(5):
            queue.add(f"old-{number}", low_priority=True)
        queue.add("new")
        return await handed_out(queue, 6)

    assert run(main()) == ["new", "old-0", "old-1", "old-2", "old-3", "old-4"]


def test_a_low_key_added_again_normally_moves_up_and_a_normal_one_never_moves_down():
    async def main():
        queue: WorkQueue[str] = WorkQueue()
        for key in ("a", "b", "c"):
            queue.add(key, low_priority=True)
        queue.add("c")  # a watch event for it came meanwhile
        queue.add("d")
        queue.add("d", low_priority=True)
        keys = await handed_out(queue, 4)
        return keys, len(queue)

    assert run(main()) == (["c", "d", "a", "b"], 0)


def test_a_stream_of_normal_keys_cannot_hold_the_low_ones_off_for_ever():
    async def main():
        queue: WorkQueue[str] = WorkQueue()
        queue.add("look", low_priority=True)
        for number in range(3 * LOW_PRIORITY_AFTER):
            queue.add(f"event-{number}")
        return (await handed_out(queue, 3 * LOW_PRIORITY_AFTER + 1)).index("look")

    assert run(main()) == LOW_PRIORITY_AFTER


def test_a_pass_is_reported_once_every_key_of_it_was_handed_out_and_done():
    async def main():
        queue: WorkQueue[str] = WorkQueue()
        reports = []
        for key in ("a", "b", "c"):
            queue.add(key, low_priority=True)
        queue.watch_pass(["a", "b", "c"], lambda count, seconds: reports.append(count))
        queue.add("other")
        await handed_out(queue, 3)
        before = list(reports)
        await handed_out(queue, 1)
        return before, reports

    assert run(main()) == ([], [3])


def _videojob(number: int, status: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "apiVersion": "videojob.dev/v1alpha1",
        "kind": "VideoJob",
        "metadata": {
            "name": f"vj-{number:05d}",
            "namespace": "team-a",
            "uid": f"uid-{number:05d}",
            "generation": 1,
            "resourceVersion": str(10 + number),
            "creationTimestamp": "2026-11-21T10:00:00Z",
        },
        "spec": {"source": {"markdown": "# A\n\nB.\n"}},
        "status": status or {},
    }


RENDERING = {"phase": "Rendering", "observedGeneration": 1}


class PagedApi:
    """Lists ``items`` 500 to a page, once ``release`` is set; every watch stays quiet."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items, self.release = items, asyncio.Event()

    async def list_page(self, path: str, params: Mapping[str, str]) -> dict[str, Any]:
        await self.release.wait()
        start = int(params.get("continue") or 0)
        more = {"continue": str(start + 500)} if start + 500 < len(self.items) else {}
        return {"items": self.items[start : start + 500], "metadata": {"resourceVersion": "900", **more}}

    async def watch(self, path: str, params: Mapping[str, str]) -> AsyncIterator[dict[str, Any]]:
        await asyncio.Event().wait()
        yield {}


def test_after_a_restart_a_new_videojob_is_reconciled_before_thousands_that_need_nothing(kube, monkeypatch):
    reconciler, _, _ = _reconciler(monkeypatch)
    old = [_videojob(number, RENDERING) for number in range(1000)]
    new = _videojob(1000, None)  # submitted while no operator ran: no status yet
    api = PagedApi([*old[:600], new, *old[600:]])
    store = OwnedObjects()
    informer = Informer(api, "/videojobs", "", own_uid, dict, store, lambda *event: None)
    world = World(videojobs=store, jobs={}, pods={}, priorities={})
    kopf_indexed, watches = asyncio.Event(), list[asyncio.Task[None]]()
    order: list[str] = []

    async def record(uid: str) -> None:
        order.append(uid)

    reconciler.reconcile = record

    async def main():
        beginning = asyncio.create_task(
            startup.begin_when_listed(reconciler, [informer], world, kopf_indexed, 0.0, watches)
        )
        await asyncio.sleep(0.05)
        unbound_while_listing = reconciler.world is None
        api.release.set()
        await asyncio.sleep(0.05)
        unbound_until_kopf_indexed = reconciler.world is None and not order
        kopf_indexed.set()
        await beginning
        while len(order) < 1001:
            await asyncio.sleep(0.01)
        for task in watches:
            task.cancel()
        await reconciler.close()
        return unbound_while_listing, unbound_until_kopf_indexed

    assert run(main()) == (True, True)
    assert order[0] == "uid-01000"
    assert sorted(order) == sorted(v["metadata"]["uid"] for v in [*old, new])  # every one looked at, once
    assert startup.FIRST_PASS_VIDEOJOBS._value.get() == 1001
    assert startup.FIRST_PASS_SECONDS._value.get() > 0


def test_what_a_videojob_found_at_the_start_needs(kube):
    job = kube.job(active=1)
    done = kube.job(conditions=[kube.job_condition("Complete", "Completed")], succeeded=1)
    assert not startup.needs_attention(_videojob(1, RENDERING), job)
    assert not startup.needs_attention(_videojob(1, {"phase": "Succeeded", "observedGeneration": 1}), None)
    assert startup.needs_attention(_videojob(1, None), None)  # new
    assert startup.needs_attention(_videojob(1, {**RENDERING, "observedGeneration": 0}), job)  # spec changed
    assert startup.needs_attention(_videojob(1, RENDERING), done)  # ended while no operator ran
    deleting = _videojob(1, RENDERING)
    deleting["metadata"]["deletionTimestamp"] = "2026-11-21T10:05:00Z"
    assert startup.needs_attention(deleting, job)


def test_a_videojob_event_from_the_watch_is_weighed_and_kicked_and_a_deletion_forgotten(kube, monkeypatch):
    reconciler, _, _ = _reconciler(monkeypatch)
    body = kube.videojob()

    async def main():
        reconciler.bind(World(videojobs={kube.UID: [body]}, jobs={}, pods={}, priorities={}))
        handlers.videojob_changed(reconciler, "ADDED", kube.UID, body)
        queued = len(reconciler.queue)
        handlers.videojob_changed(reconciler, "DELETED", kube.UID, {"metadata": {"uid": kube.UID}})
        return queued, reconciler.admission._weighed

    assert run(main()) == (1, 0)


def test_a_render_that_ended_while_no_operator_ran_is_reconciled_first(kube):
    ended = kube.pod(phase="Succeeded", state={"terminated": {"exitCode": 0, "reason": "Completed"}})
    assert startup.needs_attention(_videojob(1, RENDERING), kube.job(active=1), [ended])
    assert not startup.needs_attention(_videojob(1, RENDERING), kube.job(active=1), [kube.pod()])


def test_the_logs_of_pods_found_at_the_start_are_followed_after_the_lists_a_batch_at_a_time(kube, monkeypatch):
    reconciler, _, _ = _reconciler(monkeypatch)
    followed: list[str] = []
    monkeypatch.setattr(reconciler, "watch_pod", lambda uid, pod: followed.append(pod["metadata"]["name"]))
    pods = OwnedObjects()
    for number in range(2 * startup.FOLLOW_BATCH + 1):
        pod = kube.pod(name=f"pod-{number}")
        pod["metadata"]["uid"] = f"pod-uid-{number}"
        pods.put(f"vj-{number}", pod["metadata"]["uid"], pod)
        startup.pod_changed_once_listed(reconciler, "ADDED", f"vj-{number}", pod)  # as the list hands it on
    before_the_world = list(followed)

    async def main():
        reconciler.bind(World(videojobs={}, jobs={}, pods=pods, priorities={}))
        following = asyncio.create_task(startup.follow_listed_pods(reconciler, pods))
        await asyncio.sleep(0)
        first_batch = len(followed)
        await following
        return first_batch

    assert before_the_world == []  # no log opened while listing: the lists and the first pass go first
    assert run(main()) == startup.FOLLOW_BATCH
    assert len(followed) == 2 * startup.FOLLOW_BATCH + 1
