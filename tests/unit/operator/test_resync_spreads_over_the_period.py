"""The periodic resync reconciles every VideoJob not yet over, spread over its period, not as one burst."""

from __future__ import annotations

import asyncio
from typing import cast

import pytest

from videojob.operator import reconciler as reconciler_module
from videojob.operator.cleanup import OutputCleaner
from videojob.operator.kube import ClusterApi
from videojob.operator.reconciler import Reconciler
from videojob.operator.settings import OperatorSettings
from videojob.operator.world import World


class PeriodOver(Exception):
    pass


def test_the_resync_spreads_the_videojobs_not_over_across_its_period(kube, monkeypatch) -> None:
    monkeypatch.setattr(reconciler_module, "RESYNC_TICKS", 4)
    bodies = {}
    for i, phase in enumerate(["Rendering", "Queued", "Succeeded", "Pending", "Failed", "Rendering", "Suspended"]):
        body = kube.videojob(name=f"vj-{i}", status={"phase": phase})
        body["metadata"]["uid"] = f"uid-{i}"
        bodies[f"uid-{i}"] = [body]
    settings = OperatorSettings(resync_seconds=0.4)
    reconciler = Reconciler(settings, cast(ClusterApi, object()), OutputCleaner(settings), lambda *_: None)
    reconciler.bind(World(videojobs=bodies, jobs={}, pods={}, priorities={}))
    events: list[str] = []  # "tick" for each pause of the resync, a uid for each VideoJob it queues
    real_sleep = asyncio.sleep

    async def pause(seconds: float) -> None:
        assert seconds == 0.1  # the period over its steps
        events.append("tick")
        if events.count("tick") > 5:  # one period and the start of the next
            raise PeriodOver
        await real_sleep(0)

    # Only a look: at low priority, behind any watch event (a key added at normal priority would read "uid-0!").
    monkeypatch.setattr(
        reconciler.queue, "add", lambda uid, low_priority=False: events.append(uid + "!" * (not low_priority))
    )
    monkeypatch.setattr(asyncio, "sleep", pause)
    with pytest.raises(PeriodOver):
        asyncio.run(reconciler._resync_forever())
    monkeypatch.undo()
    groups = " ".join(events).split("tick")[1:5]  # what each step of the first period queued
    assert [group.split() for group in groups] == [["uid-0", "uid-1"], ["uid-3", "uid-5"], ["uid-6"], []]
    # uid-2 (Succeeded) and uid-4 (Failed) are not resynced.


def test_a_resync_of_0_seconds_is_off(kube) -> None:
    settings = OperatorSettings(resync_seconds=0)
    reconciler = Reconciler(settings, cast(ClusterApi, object()), OutputCleaner(settings), lambda *_: None)

    async def started() -> int:
        reconciler.start(workers=1)
        tasks = len(reconciler._tasks)
        await reconciler.close()
        return tasks

    assert asyncio.run(started()) == 1  # the one worker, no resync
