"""Waiting VideoJobs are admitted by priority, then creation time, up to the render cap."""

from videojob.operator.admission import ADMISSION_GRACE_SECONDS, Admission, Waiting, decide
from videojob.operator.world import World, WrittenStatuses


def _waiting(uid, created, priority=0, name=None):
    return Waiting(uid=uid, priority=priority, created=created, namespace="team-a", name=name or uid)


def test_oldest_first_up_to_the_free_slots():
    waiting = [
        _waiting("c", "2026-11-21T10:00:03Z"),
        _waiting("a", "2026-11-21T10:00:01Z"),
        _waiting("b", "2026-11-21T10:00:02Z"),
    ]
    decision = decide(waiting, running=1, capacity=2)
    assert decision.admitted == {"a"}
    assert decision.positions == {"b": 1, "c": 2}
    assert decision.length == 2


def test_higher_priority_goes_first_even_when_younger():
    waiting = [_waiting("old", "2026-11-21T10:00:01Z"), _waiting("urgent", "2026-11-21T10:09:00Z", priority=1000)]
    decision = decide(waiting, running=0, capacity=1)
    assert decision.admitted == {"urgent"} and decision.positions == {"old": 1}


def test_a_full_cluster_admits_nobody():
    decision = decide([_waiting("a", "2026-11-21T10:00:01Z")], running=5, capacity=4)
    assert decision.admitted == frozenset() and decision.positions == {"a": 1}


def test_same_second_ties_break_by_name_so_restarts_agree():
    waiting = [
        _waiting("u2", "2026-11-21T10:00:01Z", name="beta"),
        _waiting("u1", "2026-11-21T10:00:01Z", name="alpha"),
    ]
    assert decide(waiting, running=0, capacity=0).positions == {"u1": 1, "u2": 2}


def _world(kube, videojobs, jobs=()):
    return World(
        videojobs={v["metadata"]["uid"]: [v] for v in videojobs},
        jobs={uid: [job] for uid, job in jobs},
        pods={},
        priorities={},
    )


def _videojobs(kube, *names):
    bodies = []
    for second, name in enumerate(names):
        body = kube.videojob(name=name)
        body["metadata"]["uid"] = f"uid-{name}"
        body["metadata"]["creationTimestamp"] = f"2026-11-21T10:00:0{second}Z"
        bodies.append(body)
    return bodies


def test_a_videojob_just_admitted_keeps_its_slot_before_its_job_reaches_the_index(kube):
    admission = Admission(capacity=1, statuses=WrittenStatuses(), places_moved=lambda: None)
    world = _world(kube, _videojobs(kube, "first", "second"))
    assert admission.decide(world, now=100.0).admitted == {"uid-first"}
    admission.admit("uid-first", now=100.0)
    # The Job is being created; a reconcile of "second" must not take the slot meanwhile.
    later = admission.decide(world, now=101.0)
    assert later.admitted == frozenset() and later.positions == {"uid-second": 1}
    # Once the grace period has passed with no Job to show for it, the slot is free again.
    assert admission.decide(world, now=100.0 + ADMISSION_GRACE_SECONDS + 1).admitted == {"uid-first"}


def test_finished_suspended_and_terminal_videojobs_hold_no_slot(kube):
    admission = Admission(capacity=1, statuses=WrittenStatuses(), places_moved=lambda: None)
    done, paused, failed, waiting = _videojobs(kube, "done", "paused", "failed", "waiting")
    failed["status"] = {"phase": "Failed"}
    world = _world(
        kube,
        [done, paused, failed, waiting],
        jobs=[
            ("uid-done", kube.job(succeeded=1, conditions=[kube.job_condition("Complete", "CompletionsReached")])),
            ("uid-paused", kube.job(suspended=True)),
        ],
    )
    decision = admission.decide(world, now=0.0)
    # The one slot is free: the resuming VideoJob (its Job still suspended) is older than the other.
    assert decision.admitted == {"uid-paused"} and decision.positions == {"uid-waiting": 1}


def test_the_places_are_announced_when_the_queue_length_changes(kube):
    moved = []
    admission = Admission(capacity=1, statuses=WrittenStatuses(), places_moved=lambda: moved.append(True))
    running, *waiting = _videojobs(kube, "running", "second", "third")
    world = _world(kube, [running, *waiting], jobs=[("uid-running", kube.job(active=1))])
    assert admission.decide(world, now=0.0).length == 2
    admission.decide(world, now=0.0)
    assert moved == [True]  # once: the second look found the same queue
