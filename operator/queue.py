"""The operator's render queue: which waiting VideoJobs get a slot, and the others' places.

Pure: the reconciler hands in what it knows and applies the answer. Order is higher
PriorityClass value first, then creation time, then namespace and name (so ties are
stable across operator restarts).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


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
class QueueDecision:
    admitted: frozenset[str]
    positions: Mapping[str, int]  # 1-based, for those not admitted
    length: int


def decide(waiting: Iterable[Waiting], running: int, capacity: int) -> QueueDecision:
    """Admit the first ``capacity - running`` waiting jobs; number the rest from 1."""
    ordered = sorted(waiting, key=lambda item: item.order)
    free = max(0, capacity - running)
    admitted = frozenset(item.uid for item in ordered[:free])
    rest = ordered[free:]
    return QueueDecision(admitted, {item.uid: place for place, item in enumerate(rest, start=1)}, len(rest))
