"""A render slot is one renderer Pod: a fan-out of N Pods takes N of VIDEOJOB_MAX_CONCURRENT_RENDERS.

The Jobs here are shaped as the Job controller reports them (spec.completions, status.active
and succeeded); the admission that reads them is the operator's own.
"""

from __future__ import annotations

import asyncio
import random
from typing import cast

from hypothesis import given, settings
from hypothesis import strategies as st

from videojob.operator import slim
from videojob.operator.admission import Admission, Waiting, decide
from videojob.operator.builders import build_attempt_job
from videojob.operator.kube import ClusterApi
from videojob.operator.launcher import Launcher
from videojob.operator.settings import OperatorSettings
from videojob.operator.slots import lowered_note, pods_at_once
from videojob.operator.world import World, WrittenStatuses
from videojob.spec import VideoJobSpec


def _videojob(kube, name: str, second: int, **spec):
    body = kube.videojob(name=name, **spec)
    body["metadata"]["uid"] = f"uid-{name}"
    body["metadata"]["creationTimestamp"] = f"2026-11-21T10:00:{second:02d}Z"
    return body


def _running_job(kube, pods: int, succeeded: int = 0):
    job = kube.job(active=pods - succeeded, succeeded=succeeded)
    job["spec"]["completions"] = pods
    return slim.job(job)


def _world(videojobs, jobs=None):
    return World(
        videojobs={v["metadata"]["uid"]: [v] for v in videojobs},
        jobs={uid: [job] for uid, job in (jobs or {}).items()},
        pods={},
        priorities={},
    )


def _admission(cap: int, videojobs=(), jobs=None) -> Admission:
    """An Admission fed as the watches feed it (handlers.py): every VideoJob and Job weighed."""
    admission = Admission(capacity=cap, statuses=WrittenStatuses(), places_moved=lambda: None)
    for body in videojobs:
        admission.weigh_videojob(body["metadata"]["uid"], body)
    for uid, job in (jobs or {}).items():
        admission.weigh_job(uid, job)
    return admission


def test_two_fan_outs_of_3_against_a_cap_of_4_run_one_at_a_time(kube):
    first = _videojob(kube, "first", 1, parallelism=3)
    second = _videojob(kube, "second", 2, parallelism=3)
    jobs = {"uid-first": _running_job(kube, 3)}
    admission = _admission(4, [first, second], jobs)
    decision = admission.decide(_world([first, second], jobs), now=0.0)
    # 3 Pods run; 3 more would make 6 renderer Pods against a cap of 4.
    assert decision.admitted == frozenset() and decision.positions == {"uid-second": 1}


def test_a_fan_out_gives_its_slots_back_as_its_shares_finish(kube):
    first = _videojob(kube, "first", 1, parallelism=3)
    second = _videojob(kube, "second", 2, parallelism=3)
    jobs = {"uid-first": _running_job(kube, 3, succeeded=2)}  # one index still draws (or joins)
    decision = _admission(4, [first, second], jobs).decide(_world([first, second], jobs), now=0.0)
    assert decision.admitted == {"uid-second"}


def test_single_pod_renders_fill_the_slots_a_fan_out_leaves(kube):
    fan_out = _videojob(kube, "fan-out", 1, parallelism=3)
    small = [_videojob(kube, f"small-{i}", 2 + i) for i in range(3)]
    jobs = {"uid-fan-out": _running_job(kube, 3)}
    decision = _admission(4, [fan_out, *small], jobs).decide(_world([fan_out, *small], jobs), now=0.0)
    assert decision.admitted == {"uid-small-0"}
    assert decision.positions == {"uid-small-1": 1, "uid-small-2": 2}


def test_a_big_render_first_in_line_is_not_overtaken_by_smaller_ones_behind_it():
    waiting = [
        Waiting("big", 0, "2026-11-21T10:00:01Z", "team-a", "big", pods=3),
        Waiting("small", 0, "2026-11-21T10:00:02Z", "team-a", "small", pods=1),
    ]
    decision = decide(waiting, running=2, capacity=4)  # 2 slots free: the small one would fit, the big one not
    assert decision.admitted == frozenset() and decision.positions == {"big": 1, "small": 2}
    # A higher priority still goes first, whatever its size.
    urgent = Waiting("urgent", 100, "2026-11-21T10:00:03Z", "team-a", "urgent", pods=2)
    assert decide([*waiting, urgent], running=2, capacity=4).admitted == {"urgent"}


def test_auto_takes_the_slots_of_the_pods_it_resolves_to(kube):
    lecture = "\n\n".join(f"# Part {i}\n\nText." for i in range(12))  # 12 headings at medium: 3 Pods
    auto = _videojob(kube, "auto", 2, parallelism="auto", source={"markdown": lecture})
    running = _videojob(kube, "running", 1, parallelism=2)
    assert pods_at_once(VideoJobSpec.model_validate(auto["spec"]), cap=4) == 3
    jobs = {"uid-running": _running_job(kube, 2)}
    decision = _admission(4, [running, auto], jobs).decide(_world([running, auto], jobs), now=0.0)
    assert decision.admitted == frozenset() and decision.positions == {"uid-auto": 1}


def test_a_fan_out_wider_than_the_cap_renders_on_every_slot_and_says_so(kube):
    wide = _videojob(kube, "wide", 1, parallelism=8)
    settings_ = OperatorSettings(max_concurrent_renders=4)
    job = build_attempt_job(wide, settings_)
    assert (job["spec"]["completions"], job["spec"]["parallelism"]) == (4, 4)
    note = lowered_note(VideoJobSpec.model_validate(wide["spec"]), 4)
    assert note is not None and "spec.parallelism 8" in note and "VIDEOJOB_MAX_CONCURRENT_RENDERS" in note
    assert "renders on 4 Pods" in note

    # It waits while anything runs, and starts once the cluster is empty.
    small = _videojob(kube, "small", 0)
    busy = {"uid-small": _running_job(kube, 1)}
    assert _admission(4, [small, wide], busy).decide(_world([small, wide], busy), now=0.0).admitted == frozenset()
    assert _admission(4, [wide]).decide(_world([wide]), now=0.0).admitted == {"uid-wide"}


def test_kueues_videojobs_neither_hold_nor_wait_for_the_operators_slots(kube):
    kueues = _videojob(kube, "kueues", 1, parallelism=4, queueName="renders")
    plain = _videojob(kube, "plain", 2)
    job = _running_job(kube, 4)
    job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] = "renders"
    wide = build_attempt_job(kueues, OperatorSettings(max_concurrent_renders=1))
    assert wide["spec"]["parallelism"] == 4  # Kueue's quota is its cap, not ours
    jobs = {"uid-kueues": job}
    world = _world([kueues, plain], jobs)
    assert "uid-plain" in _admission(1, [kueues, plain], jobs).decide(world, now=0.0).admitted
    unweighed = Admission(capacity=1, statuses=WrittenStatuses(), places_moved=lambda: None)  # the full scan
    decision = unweighed.decide(world, now=0.0)
    assert decision.admitted == {"uid-plain"} and decision.length == 0


def test_room_for_everyone_is_known_without_scanning_and_goes_when_a_fan_out_arrives(kube):
    bodies = [_videojob(kube, f"job-{i}", i) for i in range(4)]
    admission = _admission(4, bodies)
    assert admission.decide(_world(bodies), now=0.0).admitted >= {"uid-job-3"}
    wide = _videojob(kube, "wide", 9, parallelism=2)
    admission.weigh_videojob("uid-wide", wide)
    jobs = {f"uid-job-{i}": _running_job(kube, 1) for i in range(4)}
    decision = admission.decide(_world([*bodies, wide], jobs), now=0.0)
    assert decision.admitted == frozenset() and decision.positions == {"uid-wide": 1}
    # Over, it holds no slot: the quick answer is back.
    for body in bodies:
        admission.weigh_videojob(body["metadata"]["uid"], body | {"status": {"phase": "Succeeded"}})
    admission.drop("uid-job-0")
    assert "uid-wide" in admission.decide(_world([wide]), now=0.0).admitted


def test_a_just_admitted_fan_out_holds_all_its_slots_before_its_job_shows(kube):
    first = _videojob(kube, "first", 1, parallelism=3)
    second = _videojob(kube, "second", 2, parallelism=2)
    admission = _admission(4, [first, second])
    world = _world([first, second])
    assert admission.decide(world, now=100.0).admitted == {"uid-first"}  # 3 + 2 > 4: the second waits
    admission.admit("uid-first", now=100.0)
    later = admission.decide(world, now=101.0)
    assert later.admitted == frozenset() and later.positions == {"uid-second": 1}


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=1, max_value=6), min_size=1, max_size=12),
    cap=st.integers(min_value=1, max_value=6),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_renders_start_in_their_order_and_never_run_more_pods_than_the_cap(sizes, cap, seed):
    """A queue played to the end: Jobs finish at random; the Pods running never exceed the cap, every render
    starts (none starved), and they start in the order they came (one priority)."""
    rng = random.Random(seed)
    waiting = [
        Waiting(f"u{i}", 0, f"2026-11-21T10:{i // 60:02d}:{i % 60:02d}Z", "team-a", f"vj-{i}", pods=min(size, cap))
        for i, size in enumerate(sizes)
    ]
    running: dict[str, int] = {}
    started: list[str] = []
    while waiting or running:
        decision = decide(waiting, sum(running.values()), cap)
        for item in sorted((w for w in waiting if w.uid in decision.admitted), key=lambda w: w.order):
            running[item.uid] = item.pods
            started.append(item.uid)
        waiting = [w for w in waiting if w.uid not in decision.admitted]
        assert sum(running.values()) <= cap
        if running:
            del running[rng.choice(sorted(running))]
    assert started == [f"u{i}" for i in range(len(sizes))]


class _Api:
    """Answers the two creates a first attempt makes, as the API server does when the objects are new."""

    def __init__(self) -> None:
        self.created: list[dict] = []

    async def create_if_absent(self, manifest: dict) -> bool:
        self.created.append(manifest)
        return True


def test_the_videojob_is_told_when_its_fan_out_is_lowered_to_the_cap(kube):
    wide = _videojob(kube, "wide", 1, parallelism=6)
    settings_ = OperatorSettings(max_concurrent_renders=2)
    events: list[tuple[str, str, str]] = []
    admission = _admission(2, [wide])
    api = _Api()
    launcher = Launcher(settings_, cast(ClusterApi, api), admission, lambda: lambda _, *event: events.append(event))
    asyncio.run(launcher.start(wide, VideoJobSpec.model_validate(wide["spec"])))
    job = next(m for m in api.created if m["kind"] == "Job")
    assert job["spec"]["parallelism"] == 2
    lowered = [message for _, reason, message in events if reason == "ParallelismLowered"]
    assert lowered and lowered[0].startswith("spec.parallelism 6 is more than the operator's 2 render slot(s)")


def test_a_render_over_by_its_log_holds_its_slot_until_its_container_has_ended(kube):
    """The operator may call a render Succeeded from its log a second before its container exits
    (status.py): its Pod still runs and still counts against the cap until the kubelet says it ended."""
    done = _videojob(kube, "done", 1)
    done["status"] = {"phase": "Succeeded"}
    waiting = [_videojob(kube, "next", 2), _videojob(kube, "later", 3)]
    jobs = {"uid-done": _running_job(kube, 1)}
    bodies = [done, *waiting]
    pods = {"uid-done": [slim.pod(kube.pod())]}
    world = World(videojobs={v["metadata"]["uid"]: [v] for v in bodies}, jobs={"uid-done": [jobs["uid-done"]]},
                  pods=pods, priorities={})  # fmt: skip
    assert _admission(1, bodies, jobs).decide(world, now=0.0).admitted == frozenset()

    pods["uid-done"] = [slim.pod(kube.pod(phase="Succeeded", state=kube.terminated(0, reason="Completed")))]
    assert _admission(1, bodies, jobs).decide(world, now=0.0).admitted == {"uid-next"}


def test_while_its_job_runs_a_render_over_by_its_log_keeps_the_quick_path_from_admitting_past_the_cap(kube):
    done = _videojob(kube, "done", 1)
    done["status"] = {"phase": "Succeeded"}
    following = _videojob(kube, "following", 2)
    jobs = {"uid-done": _running_job(kube, 1)}
    pods = {"uid-done": [slim.pod(kube.pod())]}
    world = World(videojobs={v["metadata"]["uid"]: [v] for v in (done, following)},
                  jobs={"uid-done": [jobs["uid-done"]]}, pods=pods, priorities={})  # fmt: skip
    admission = _admission(1, [done, following], jobs)
    assert admission.decide(world, now=0.0).admitted == frozenset()  # its one Pod still runs: the cap is full

    admission.job_gone("uid-done")  # the Job went (and its Pods with it)
    pods["uid-done"] = []
    assert "uid-following" in admission.decide(world, now=0.0).admitted
