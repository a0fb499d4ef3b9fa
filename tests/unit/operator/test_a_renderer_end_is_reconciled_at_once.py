"""A renderer's end is reconciled at once; the quick series of changes before it settles first.

A Job's and Pods' changes while a render starts (created, scheduled, running) make one
reconcile SETTLE_SECONDS after the last of them. The container's termination is different:
it carries the result (the stored video, or the failure) a user waits for, and the pause
would add to every render's time from its end to Succeeded.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from videojob.operator import handlers
from videojob.operator.cleanup import OutputCleaner
from videojob.operator.reconciler import Reconciler
from videojob.operator.settings import OperatorSettings
from videojob.operator.world import World


def _queued_after_pod_event(kube, monkeypatch, pod, *, wait: float) -> int:
    monkeypatch.setenv("VIDEOJOB_RENDERER_IMAGE", "localhost/videojob-renderer:test")
    settings = OperatorSettings()
    reconciler = Reconciler(settings, cast(Any, None), OutputCleaner(settings), events=lambda *event: None)

    async def main() -> int:
        reconciler.world = World(videojobs={}, jobs={}, pods={}, priorities={})
        monkeypatch.setattr(reconciler, "watch_pod", lambda uid, pod: None)  # no log to follow here
        handlers.renderer_pod_changed(reconciler, "MODIFIED", kube.UID, pod)
        await asyncio.sleep(wait)
        return len(reconciler.queue)

    return asyncio.run(main())


def test_a_container_that_ended_is_reconciled_without_the_settle_pause(kube, monkeypatch):
    ended = kube.pod(phase="Succeeded", state=kube.terminated(0, reason="Completed", message=kube.result_message()))
    assert handlers.renderer_ended(ended)
    assert _queued_after_pod_event(kube, monkeypatch, ended, wait=0) == 1


def test_a_pod_still_starting_or_running_waits_for_its_changes_to_settle(kube, monkeypatch):
    running = kube.pod(phase="Running")
    assert not handlers.renderer_ended(running)
    assert _queued_after_pod_event(kube, monkeypatch, running, wait=0) == 0
    assert _queued_after_pod_event(kube, monkeypatch, running, wait=handlers.SETTLE_SECONDS + 0.1) == 1
