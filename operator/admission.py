"""Admission to the operator's render slots: which waiting VideoJobs may start a renderer, and the others' places.

:func:`decide` is pure: higher PriorityClass value first, then creation time, then
namespace and name (so ties are stable across operator restarts). :class:`Admission`
gathers what it needs from the world: a VideoJob holds a slot while its Job runs
unsuspended, and for a short grace period right after admission, before the new Job
(or its unsuspension) reaches the index.

Not to be confused with :mod:`.workqueue`, which schedules reconciles; this decides
renders. Kueue, when installed, admits Jobs by their queue-name label instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from . import metrics, reasons
from .failures import job_failed, job_succeeded
from .world import World, WrittenStatuses

ADMISSION_GRACE_SECONDS = 30.0  # how long a just-admitted VideoJob counts as running before its Job shows it


@dataclass(frozen=True)
class Waiting:
    uid: str
    priority: int
    created: str  # RFC 3339; sorts as text
    namespace: str
    name: str

    @property
    def order(self) -> tuple[int, str, str, str]:
        return (-self.priority, self.created, self.namespace, self.name)


@dataclass(frozen=True)
class SlotDecision:
    admitted: AbstractSet[str]
    positions: Mapping[str, int]  # 1-based, for those not admitted
    length: int


def decide(waiting: Iterable[Waiting], running: int, capacity: int) -> SlotDecision:
    """Admit the first ``capacity - running`` waiting jobs; number the rest from 1."""
    ordered = sorted(waiting, key=lambda item: item.order)
    free = max(0, capacity - running)
    admitted = frozenset(item.uid for item in ordered[:free])
    rest = ordered[free:]
    return SlotDecision(admitted, {item.uid: place for place, item in enumerate(rest, start=1)}, len(rest))


def finished(job: Mapping[str, Any] | None) -> bool:
    return bool(job_succeeded(job) or job_failed(job))


def suspended(job: Mapping[str, Any] | None) -> bool:
    return bool(((job or {}).get("spec") or {}).get("suspend"))


class Admission:
    """The render slots as the reconciler sees them; ``places_moved`` is called when the queue's length changes."""

    def __init__(self, capacity: int, statuses: WrittenStatuses, places_moved: Callable[[], None]) -> None:
        self.capacity = capacity
        self._statuses = statuses
        self._places_moved = places_moved
        self._admitted_at: dict[str, float] = {}
        self._length = 0

    def admit(self, uid: str, now: float) -> None:
        self._admitted_at[uid] = now

    def settle(self, uid: str) -> None:
        """The index shows what admission did (or the VideoJob gave its slot back): no grace needed."""
        self._admitted_at.pop(uid, None)

    def decide(self, world: World, now: float) -> SlotDecision:
        if len(world) <= self.capacity:
            # Room for every VideoJob there is: nobody waits, and a burst skips the O(n) scan
            # (and the O(n) copy: the index's live key view answers `uid in admitted`).
            self._set_length(0, announce=False)
            return SlotDecision(world.videojobs.keys(), {}, 0)
        running, waiting = 0, []
        for uid, body in world.all_videojobs():
            metadata, spec = body["metadata"], body.get("spec") or {}
            if metadata.get("deletionTimestamp") or self._statuses.newest(body).get("phase") in reasons.TERMINAL_PHASES:
                continue
            job = world.job(uid)
            if self._holds_slot(uid, job, now):
                running += 1
            elif not spec.get("suspend") and not finished(job):
                waiting.append(
                    Waiting(
                        uid,
                        world.priority(spec.get("priorityClassName")),
                        metadata.get("creationTimestamp") or "",
                        metadata["namespace"],
                        metadata["name"],
                    )
                )
        decision = decide(waiting, running, self.capacity)
        self._set_length(decision.length, announce=True)
        return decision

    def _holds_slot(self, uid: str, job: Mapping[str, Any] | None, now: float) -> bool:
        if job is not None and not finished(job) and not suspended(job):
            return True
        admitted = self._admitted_at.get(uid)
        return admitted is not None and now - admitted < ADMISSION_GRACE_SECONDS

    def _set_length(self, length: int, announce: bool) -> None:
        if length == self._length:
            return
        self._length = length
        metrics.QUEUE_LENGTH.set(length)
        if announce:
            self._places_moved()  # everyone's "position N of M" moved
