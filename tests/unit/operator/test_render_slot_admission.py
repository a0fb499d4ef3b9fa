"""Waiting VideoJobs are admitted by priority, then creation time, up to the render cap."""

from videojob.operator.admission import Waiting, decide


def _waiting(uid, created, priority=0, name=None):
    return Waiting(uid=uid, priority=priority, created=created, namespace="team-a", name=name or uid)


def test_oldest_first_up_to_the_free_slots():
    waiting = [_waiting("c", "2026-11-21T10:00:03Z"), _waiting("a", "2026-11-21T10:00:01Z"), _waiting("b", "2026-11-21T10:00:02Z")]
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
    waiting = [_waiting("u2", "2026-11-21T10:00:01Z", name="beta"), _waiting("u1", "2026-11-21T10:00:01Z", name="alpha")]
    assert decide(waiting, running=0, capacity=0).positions == {"u1": 1, "u2": 2}
