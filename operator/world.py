"""What the operator knows of the cluster: kopf's in-memory indexes, and the statuses it wrote.

kopf fills the indexes before any handler runs, so a restarted operator sees the Jobs it
created before. The indexes lag the operator's own writes by one watch event; until the
watch catches up, the status the operator last wrote is the newest it knows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from videojob.spec import OutputSpec

from .builders import ATTEMPT_LABEL
from .cleanup import finalizers_for

DEFAULT_RETENTION: str = OutputSpec.model_fields["retention"].default

JOB_NAME_LABELS = ("job-name", "batch.kubernetes.io/job-name")


def _first(store: Iterable[Any] | None) -> Any:
    return next(iter(store), None) if store is not None else None


def _attempt_order(job: Mapping[str, Any]) -> tuple[int, str]:
    attempt = (job["metadata"].get("labels") or {}).get(ATTEMPT_LABEL) or ""
    return (int(attempt) if attempt.isdigit() else 1, job["metadata"]["name"])


def resource_version(body: Mapping[str, Any]) -> int:
    try:
        return int(body["metadata"].get("resourceVersion") or 0)
    except ValueError:
        return 0


@dataclass
class World:
    """kopf's indexes, keyed by VideoJob uid (priorities by PriorityClass name)."""

    videojobs: Mapping[str, Iterable[Mapping[str, Any]]]
    jobs: Mapping[str, Iterable[Mapping[str, Any]]]
    pods: Mapping[str, Iterable[Mapping[str, Any]]]
    priorities: Mapping[str, Iterable[int]]
    workloads: Mapping[str, Iterable[Mapping[str, Any]]] = dataclasses.field(default_factory=dict)  # by Job uid

    def __len__(self) -> int:
        return len(self.videojobs)

    def uids(self) -> list[str]:
        return list(self.videojobs.keys())

    def all_videojobs(self) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for uid, store in list(self.videojobs.items()):
            body = _first(store)
            if body is not None:
                yield uid, body

    def videojob(self, uid: str) -> Mapping[str, Any] | None:
        return _first(self.videojobs.get(uid))

    def job(self, uid: str) -> Mapping[str, Any] | None:
        """The VideoJob's renderer Job (the newest attempt, should there be several)."""
        jobs = self.all_jobs(uid)
        return jobs[-1] if jobs else None

    def all_jobs(self, uid: str) -> list[Mapping[str, Any]]:
        """Every renderer Job of the VideoJob, oldest attempt first (attempt 10 after 9, not after 1)."""
        return sorted(self.jobs.get(uid) or (), key=_attempt_order)

    def job_pods(self, uid: str, job: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
        """The Pods of this Job (not of an earlier attempt's)."""
        if job is None:
            return []
        name = job["metadata"]["name"]
        return [
            pod
            for pod in self.pods.get(uid) or ()
            if any((pod["metadata"].get("labels") or {}).get(label) == name for label in JOB_NAME_LABELS)
        ]

    def workload(self, job: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
        """Kueue's Workload for this Job, when Kueue manages it."""
        return _first(self.workloads.get(job["metadata"].get("uid") or "")) if job is not None else None

    def priority(self, priority_class: str | None) -> int:
        return _first(self.priorities.get(priority_class or "")) or 0


class WrittenStatuses:
    """The status the operator last wrote per VideoJob, kept only while the watch lags behind it."""

    def __init__(self) -> None:
        self._written: dict[str, tuple[int, dict[str, Any]]] = {}

    def remember(self, uid: str, response: Mapping[str, Any]) -> None:
        """Keep the API server's answer to a status write (its resourceVersion and status)."""
        self._written[uid] = (resource_version(response), dict(response.get("status") or {}))

    def newest(self, body: Mapping[str, Any] | None) -> dict[str, Any]:
        """The newest status we know: the watched one, or the one we wrote if the watch lags."""
        if body is None:
            return {}
        uid = body["metadata"]["uid"]
        written = self._written.get(uid)
        if written is not None:
            if written[0] > resource_version(body):
                return written[1]
            if written[0] < resource_version(body):
                del self._written[uid]  # the watch is past our write; no need to keep a copy
            # else: the watch shows our write; kept until its event handler sees it (is_echo)
        return dict(body.get("status") or {})

    def is_echo(self, body: Mapping[str, Any]) -> bool:
        """The watch shows the VideoJob exactly as our last status write left it: nothing to reconcile.

        Same resourceVersion, so nothing changed after the write; and the write saw every
        change before it (kopf may fold those events into this one): the spec it observed
        is the current generation, no deletion began, the finalizers are as retention wants.
        """
        metadata = body["metadata"]
        written = self._written.get(metadata["uid"])
        if written is None or written[0] != resource_version(body):
            return False
        del self._written[metadata["uid"]]  # the watch has caught up
        retention = ((body.get("spec") or {}).get("output") or {}).get("retention") or DEFAULT_RETENTION
        return (
            metadata.get("generation") == (body.get("status") or {}).get("observedGeneration")
            and not metadata.get("deletionTimestamp")
            and finalizers_for(metadata, retention) is None
        )

    def forget(self, uid: str) -> None:
        self._written.pop(uid, None)
