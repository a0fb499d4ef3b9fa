"""A child the operator created is expected until its watch shows it: no second create, so no 409.

In a 2,000-VideoJob burst under load, 0.55 % of the Job and ConfigMap creates answered
409 AlreadyExists, in pairs: a second reconcile of a VideoJob came before the watch showed
the Job the first one had just created, and sent both creates again. And a restarted
operator sent one ConfigMap create per VideoJob it found (10,000 answers of 409), to make
sure of a ConfigMap its running Pod had already mounted. The in-memory API here records
what would be sent (tests/integration has the real API server).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from unit.operator.test_reconciler_reacts import _reconciler, _world

from videojob.operator.launcher import Expectations


def test_a_second_reconcile_before_the_watch_shows_the_job_sends_no_create_again(kube, monkeypatch):
    reconciler, api, events = _reconciler(monkeypatch)
    reconciler.bind(_world(kube, videojobs=[kube.videojob()]))  # the Job's watch event has not come yet
    reconciler.admission.weigh_videojob(kube.UID, kube.videojob())  # as the VideoJob watch does: its slot is free

    async def twice():
        await reconciler.reconcile(kube.UID)
        await reconciler.reconcile(kube.UID)  # e.g. the status write's own watch event, seen before its answer

    asyncio.run(twice())
    assert [m["kind"] for m in api.created] == ["ConfigMap", "Job"]
    assert [event[1] for event in events].count("JobCreated") == 1
    # The second reconcile still shows the Job it made: Pending, not back to waiting for one.
    assert [patch.get("phase") for _, patch in api.status_patches if "phase" in patch] == ["Pending"]


def test_a_job_the_watch_never_shows_is_created_again_once_the_expectation_lapses(kube, monkeypatch):
    reconciler, api, _ = _reconciler(monkeypatch)
    now = [1000.0]
    reconciler.launcher.expectations = Expectations(seconds=60, clock=lambda: now[0])
    reconciler.bind(_world(kube, videojobs=[kube.videojob()]))
    reconciler.admission.weigh_videojob(kube.UID, kube.videojob())
    asyncio.run(reconciler.reconcile(kube.UID))
    now[0] += 59
    asyncio.run(reconciler.reconcile(kube.UID))
    assert [m["kind"] for m in api.created] == ["ConfigMap", "Job"]
    now[0] += 2  # deleted by someone meanwhile, say: level-triggered, it comes back
    asyncio.run(reconciler.reconcile(kube.UID))
    assert [m["kind"] for m in api.created] == ["ConfigMap", "Job", "ConfigMap", "Job"]


def test_expectations_lapse_oldest_first_and_are_dropped_when_they_do():
    now = [0.0]
    expectations = Expectations(seconds=10, clock=lambda: now[0])
    for second, name in enumerate(["Job/a/one", "Job/a/two", "Job/a/three"]):
        now[0] = float(second)
        expectations.expect(name)
    now[0] = 11.5
    assert not expectations.pending("Job/a/one")
    assert expectations.pending("Job/a/three")
    assert len(expectations) == 1  # no entry outlives its timeout: memory stays bounded in a burst


def test_a_restarted_operator_sends_no_configmap_create_for_a_render_whose_pod_started(kube, monkeypatch):
    reconciler, api, _ = _reconciler(monkeypatch)
    running = kube.pod()  # its container runs: the kubelet had mounted the spec ConfigMap
    reconciler.bind(
        _world(kube, videojobs=[kube.videojob()], jobs=[(kube.UID, kube.job(active=1))], pods=[(kube.UID, running)])
    )
    asyncio.run(reconciler.reconcile(kube.UID))
    assert api.created == []


def test_a_restarted_operator_makes_sure_of_the_configmap_while_the_pod_waits_for_its_volumes(kube, monkeypatch):
    reconciler, api, _ = _reconciler(monkeypatch)
    waiting = kube.pod(phase="Pending", state={"waiting": {"reason": "ContainerCreating"}})
    reconciler.bind(
        _world(kube, videojobs=[kube.videojob()], jobs=[(kube.UID, kube.job(active=1))], pods=[(kube.UID, waiting)])
    )
    asyncio.run(reconciler.reconcile(kube.UID))
    assert [m["kind"] for m in api.created] == ["ConfigMap"]


def test_no_configmap_create_while_the_job_has_no_pod_or_its_pod_is_only_starting(kube, monkeypatch):
    starting = kube.pod(
        phase="Pending",
        state={"waiting": {"reason": "ContainerCreating"}},
        created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    job = (kube.UID, kube.job(active=1))
    for pods in ([], [(kube.UID, starting)]):  # the Job controller made no Pod yet; its Pod is just starting
        reconciler, api, _ = _reconciler(monkeypatch)
        reconciler.bind(_world(kube, videojobs=[kube.videojob()], jobs=[job], pods=pods))
        asyncio.run(reconciler.reconcile(kube.UID))
        assert api.created == []  # a Pod waiting over a minute gets one (the test above)
