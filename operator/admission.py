"""Admission to the operator's render slots: which waiting VideoJobs may start a renderer, and the others' places.

A slot is one renderer Pod (:mod:`.slots`): a fan-out of N Pods takes N. :func:`decide` is
pure: higher PriorityClass value first, then creation time, then namespace and name (so
ties are stable across operator restarts), admitted in that order while their Pods fit;
the first that does not fit waits, and everyone behind it too, so that small renders never
overtake a big one forever. :class:`Admission` gathers what it needs from the world: a
VideoJob holds slots while its Job runs unsuspended, and for a short grace period right
after admission, before the new Job (or its unsuspension) reaches the index.

Not to be confused with :mod:`.workqueue`, which schedules reconciles; this decides
renders. Kueue, when named (``spec.queueName``), admits Jobs by their queue-name label
instead: such VideoJobs neither hold nor wait for the operator's slots.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from typing import Any

from . import metrics, reasons
from .failures import job_failed, job_succeeded, terminated_state
from .slots import most_pods, pods_held, raw_pods_at_once
from .world import World, WrittenStatuses

ADMISSION_GRACE_SECONDS = 30.0  # how long a just-admitted VideoJob counts as running before its Job shows it


@dataclass(frozen=True)
class Waiting:
    uid: str
    priority: int
    created: str  # RFC 3339; sorts as text
    namespace: str
    name: str
    pods: int = 1  # the render slots it takes: the Pods it runs at once

    @property
    def order(self) -> tuple[int, str, str, str]:
        return (-self.priority, self.created, self.namespace, self.name)


@dataclass(frozen=True)
class SlotDecision:
    admitted: AbstractSet[str]
    positions: Mapping[str, int]  # 1-based, for those not admitted
    length: int


def decide(waiting: Iterable[Waiting], running: int, capacity: int) -> SlotDecision:
    """Admit waiting jobs in order while their Pods fit in the ``capacity - running`` free slots; the first that
    does not fit waits, and so does everyone behind it. Number those waiting from 1.

    A job that needs more than the whole capacity (only a suspended Job made under a larger cap: a new one's
    fan-out is lowered to the cap, see slots.py) starts once nothing else runs, rather than never.
    """
    ordered = sorted(waiting, key=lambda item: item.order)
    free = capacity - running
    admitted: list[str] = []
    for item in ordered:
        need = max(1, min(item.pods, capacity))
        if need > free:
            break
        admitted.append(item.uid)
        free -= need
    rest = ordered[len(admitted) :]
    return SlotDecision(frozenset(admitted), {item.uid: place for place, item in enumerate(rest, start=1)}, len(rest))


def finished(job: Mapping[str, Any] | None) -> bool:
    return bool(job_succeeded(job) or job_failed(job))


def _still_running(world: World, uid: str, job: Mapping[str, Any] | None) -> int:
    """The renderer containers of a VideoJob that is over but whose Job is not: one whose log said its end
    (status.py) may run on for a second while it exits, and holds its slot until the kubelet says it ended."""
    if job is None or finished(job):
        return 0
    pods = world.job_pods(uid, job)
    return sum(1 for pod in pods if not terminated_state(pod) and (pod.get("status") or {}).get("phase") == "Running")


def suspended(job: Mapping[str, Any] | None) -> bool:
    return bool(((job or {}).get("spec") or {}).get("suspend"))


@dataclass(frozen=True)
class _Bound:
    spec: int = 0  # the most Pods its spec lets a Job run at once
    jobs: int = 0  # the most Pods one of its Jobs can run at once
    over: bool = False  # Succeeded or Failed: it holds no slot again, once its Job is over too
    weighed: bool = False  # its spec was seen
    job_running: bool = False  # its Job has not finished: a render over by its log may still be exiting

    @property
    def most(self) -> int:
        return 0 if self.over and not self.job_running else max(self.spec, self.jobs)


class Admission:
    """The render slots as the reconciler sees them; ``places_moved`` is called when the queue's length changes."""

    def __init__(self, capacity: int, statuses: WrittenStatuses, places_moved: Callable[[], None]) -> None:
        self.capacity = capacity
        self._statuses = statuses
        self._places_moved = places_moved
        self._admitted_at: dict[str, float] = {}
        self._length = 0
        self._needs: dict[str, tuple[int, int]] = {}  # uid -> (generation, slots a new attempt takes)
        # An upper bound of the Pods each VideoJob in the index may run at once, fed by every watch event
        # (weigh_*, drop): while their sum fits the cap, nobody waits and no decision needs the O(n) scan.
        self._bounds: dict[str, _Bound] = {}
        self._most_total = 0
        self._weighed = 0  # VideoJobs whose spec was weighed

    def weigh_videojob(self, uid: str, body: Mapping[str, Any]) -> None:
        """A VideoJob as the watch shows it: at most the Pods its spec asks for (none of ours when Kueue's, none
        once it is over)."""
        spec = body.get("spec") or {}
        pods = 0 if spec.get("queueName") else min(most_pods(spec), self.capacity)
        over = (body.get("status") or {}).get("phase") in reasons.TERMINAL_PHASES
        before = self._bounds.get(uid)
        self._weighed += before is None or not before.weighed
        self._bound(uid, replace(before or _Bound(), spec=pods, over=over, weighed=True))

    def weigh_job(self, uid: str, job: Mapping[str, Any]) -> None:
        """A renderer Job of the VideoJob ``uid`` the operator admitted: it runs at most its completions at once
        (more than the spec asks for when the spec changed after it, or it was made under a larger cap)."""
        before = self._bounds.get(uid) or _Bound()
        pods = int((job.get("spec") or {}).get("completions") or 1)
        running = not finished(job)
        if pods > before.jobs or running != before.job_running:
            self._bound(uid, replace(before, jobs=max(pods, before.jobs), job_running=running))

    def job_gone(self, uid: str) -> None:
        """Its renderer Job was deleted: none of its Pods run any more."""
        before = self._bounds.get(uid)
        if before is not None and before.job_running:
            self._bound(uid, replace(before, job_running=False))

    def drop(self, uid: str) -> None:
        """The VideoJob is gone from the index."""
        before = self._bounds.pop(uid, None)
        if before is not None:
            self._most_total -= before.most
            self._weighed -= before.weighed
        self._needs.pop(uid, None)
        self._admitted_at.pop(uid, None)

    def _bound(self, uid: str, bound: _Bound) -> None:
        before = self._bounds.get(uid)
        self._bounds[uid] = bound
        self._most_total += bound.most - (before.most if before else 0)

    def admit(self, uid: str, now: float) -> None:
        self._admitted_at[uid] = now

    def settle(self, uid: str) -> None:
        """The index shows what admission did (or the VideoJob gave its slot back): no grace needed."""
        self._admitted_at.pop(uid, None)

    def decide(self, world: World, now: float) -> SlotDecision:
        if self._most_total <= self.capacity and len(world) <= self._weighed:
            # Every VideoJob there is was weighed, and all their Pods fit: nobody waits, and a burst skips
            # the O(n) scan (and the O(n) copy: the index's live key view answers `uid in admitted`).
            self._set_length(0, announce=False)
            return SlotDecision(world.videojobs.keys(), {}, 0)
        running, waiting = 0, []
        for uid, body in world.all_videojobs():
            metadata, spec = body["metadata"], body.get("spec") or {}
            if spec.get("queueName") or metadata.get("deletionTimestamp"):
                continue  # Kueue's to admit, or going
            job = world.job(uid)
            if self._statuses.newest(body).get("phase") in reasons.TERMINAL_PHASES:
                running += _still_running(world, uid, job)
                continue
            held = self._slots_held(uid, metadata, spec, job, now)
            if held:
                running += held
            elif not spec.get("suspend") and not finished(job):
                waiting.append(
                    Waiting(
                        uid,
                        world.priority(spec.get("priorityClassName")),
                        metadata.get("creationTimestamp") or "",
                        metadata["namespace"],
                        metadata["name"],
                        pods_held(job) if job is not None else self._new_attempt_slots(uid, metadata, spec),
                    )
                )
        decision = decide(waiting, running, self.capacity)
        self._set_length(decision.length, announce=True)
        return decision

    def _slots_held(
        self, uid: str, metadata: Mapping[str, Any], spec: Mapping[str, Any], job: Mapping[str, Any] | None, now: float
    ) -> int:
        if job is not None and not finished(job) and not suspended(job):
            return pods_held(job)
        admitted = self._admitted_at.get(uid)
        if admitted is not None and now - admitted < ADMISSION_GRACE_SECONDS:
            # A resumed Job that still shows suspended holds what it will run; a new attempt what it is built with.
            if job is not None and suspended(job):
                return pods_held(job)
            return self._new_attempt_slots(uid, metadata, spec)
        return 0

    def _new_attempt_slots(self, uid: str, metadata: Mapping[str, Any], spec: Mapping[str, Any]) -> int:
        """The slots a Job built from this spec would take, parsed once per generation (``auto`` needs it)."""
        generation = int(metadata.get("generation") or 0)
        known = self._needs.get(uid)
        if known is None or known[0] != generation:
            known = self._needs[uid] = (generation, raw_pods_at_once(spec, self.capacity))
        return known[1]

    def _set_length(self, length: int, announce: bool) -> None:
        if length == self._length:
            return
        self._length = length
        metrics.QUEUE_LENGTH.set(length)
        if announce:
            self._places_moved()  # everyone's "position N of M" moved
