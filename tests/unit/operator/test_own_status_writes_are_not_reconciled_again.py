"""The watch event of the operator's own status write starts no second reconcile; any other change does.

Every status write comes back as a MODIFIED watch event. Reconciling it again recomputes
a status that cannot have changed: in a burst of VideoJobs that is a reconcile per write
for nothing. a watch may fold earlier events of the VideoJob into that one (only the newest
body of a quick series is handled), so the echo counts as ours only when the write had
seen the current spec, no deletion had begun and the finalizers were as retention wants.
"""

from __future__ import annotations

import asyncio
from typing import Any

from videojob.operator import handlers
from videojob.operator.cleanup import FINALIZER, OutputCleaner
from videojob.operator.informer import OwnedObjects
from videojob.operator.reconciler import Reconciler
from videojob.operator.settings import OperatorSettings
from videojob.operator.world import World


class StatusEchoingApi:
    """Answers a status patch as the API server does: the object with a new resourceVersion."""

    def __init__(self) -> None:
        self.version = 100
        self.status_patches: list[dict[str, Any]] = []

    async def create_if_absent(self, manifest):
        return True

    async def patch_videojob_status(self, namespace, name, status):
        self.version += 1
        self.status_patches.append(dict(status))
        return {"metadata": {"resourceVersion": str(self.version)}, "status": dict(status)}

    async def set_job_suspend(self, namespace, name, suspend):
        raise AssertionError("not expected here")

    async def set_job_backoff_limit(self, namespace, name, limit):
        raise AssertionError("not expected here")

    async def set_videojob_finalizers(self, namespace, name, finalizers, resource_version):
        raise AssertionError("not expected here")

    async def delete_videojob(self, namespace, name, uid):
        raise AssertionError("not expected here")

    def follow_log(self, namespace, pod, container, tail_lines):
        raise AssertionError("not expected here")


def _written_and_echoed(kube, monkeypatch, **changes: Any):
    """Reconcile a new VideoJob once; then the watch event its status write causes (with ``changes`` folded in)."""
    monkeypatch.setenv("VIDEOJOB_RENDERER_IMAGE", "localhost/videojob-renderer:test")
    api = StatusEchoingApi()
    settings = OperatorSettings()
    reconciler = Reconciler(settings, api, OutputCleaner(settings), events=lambda *event: None)
    videojob = kube.videojob()
    world = World(videojobs={kube.UID: [videojob]}, jobs=OwnedObjects(), pods=OwnedObjects(), priorities={})

    async def main() -> int:
        reconciler.bind(world)
        await reconciler.reconcile(kube.UID)
        echo = {**videojob, "status": api.status_patches[-1]}
        echo["metadata"] = {**videojob["metadata"], "resourceVersion": str(api.version)} | changes.pop("metadata", {})
        echo.update(changes)
        handlers.videojob_changed(reconciler, "MODIFIED", kube.UID, echo)  # as the VideoJob watch hands it on
        return len(reconciler.queue)

    return asyncio.run(main()), api


def test_the_echo_of_a_status_write_is_not_reconciled_again(kube, monkeypatch):
    queued, api = _written_and_echoed(kube, monkeypatch)
    assert api.status_patches[-1]["phase"] == "Pending"
    assert queued == 0


def test_a_spec_change_folded_into_the_echo_is_reconciled(kube, monkeypatch):
    queued, _ = _written_and_echoed(kube, monkeypatch, metadata={"generation": 2})
    assert queued == 1


def test_a_deletion_folded_into_the_echo_is_reconciled(kube, monkeypatch):
    queued, _ = _written_and_echoed(kube, monkeypatch, metadata={"deletionTimestamp": "2026-11-21T10:05:00Z"})
    assert queued == 1


def test_a_finalizer_removed_by_someone_else_is_put_back_by_a_reconcile(kube, monkeypatch):
    spec = {**kube.videojob()["spec"], "output": {"retention": "Delete"}}
    queued, _ = _written_and_echoed(kube, monkeypatch, spec=spec, metadata={"finalizers": []})
    assert queued == 1
    queued, _ = _written_and_echoed(kube, monkeypatch, spec=spec, metadata={"finalizers": [FINALIZER]})
    assert queued == 0


def test_a_later_change_with_another_resource_version_is_reconciled(kube, monkeypatch):
    queued, _ = _written_and_echoed(kube, monkeypatch, metadata={"resourceVersion": "999"})
    assert queued == 1
