"""What Kueue says about a renderer Job it holds: read from the Job's Workload (kueue.x-k8s.io).

A VideoJob with ``spec.queueName`` gets a renderer Job labelled ``kueue.x-k8s.io/queue-name``;
Kueue's webhook creates it suspended, Kueue makes a Workload for it (owned by the Job) and
unsuspends the Job when its ClusterQueue has quota. Suspending and resuming such a Job is
Kueue's, not the operator's, and the operator's own render slots do not apply to it: Kueue
is the cap. While it waits, the Workload's QuotaReserved condition carries Kueue's reason
and message ("insufficient unused quota for cpu in flavor ..."), which the status shows.

Kueue may also take an admitted Job back: preempted for a workload of higher priority (or
deactivated, or its Pods not ready in time), its Workload says ``Evicted`` (reason
``Preempted``, ...), Kueue suspends the Job and the Job controller deletes its Pods. That
is not a failed attempt: the Job is the same, no retry is spent, and the VideoJob is
Queued again with the eviction's reason until Kueue admits the Job once more; the
renderer then starts over, taking the scenes it had finished from the scene cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .builders import KUEUE_QUEUE_LABEL

API_GROUP = "kueue.x-k8s.io"
API_VERSION = "v1beta2"
PLURAL = "workloads"
WAITING_CONDITION = "QuotaReserved"
EVICTED_CONDITION = "Evicted"  # True from an eviction until Kueue reserves quota again


@dataclass(frozen=True)
class KueueWait:
    queue: str
    reason: str  # Kueue's CamelCase reason, for example Pending, Inadmissible or (evicted) Preempted
    message: str
    evicted: bool = False  # Kueue had admitted the Job and took it back: its render starts again

    @property
    def progressing_reason(self) -> str:
        """The VideoJob's Progressing reason: Kueue's own, said to be Kueue's (KueuePending, KueuePreempted)."""
        return f"Kueue{self.reason}"

    @property
    def stage(self) -> str:
        if self.evicted:
            return (
                f"Queued by Kueue (LocalQueue {self.queue}) again, evicted ({self.reason}): {self.message}; "
                "it renders again once readmitted, reusing the scenes it finished"
            )
        return f"Queued by Kueue (LocalQueue {self.queue}): {self.message}"


def queue_of(job: Mapping[str, Any] | None) -> str | None:
    """The LocalQueue a renderer Job was given to, or None when the operator admits it itself."""
    return ((job or {}).get("metadata", {}).get("labels") or {}).get(KUEUE_QUEUE_LABEL)


def owner_job_uid(workload: Mapping[str, Any]) -> str | None:
    for owner in workload.get("metadata", {}).get("ownerReferences") or []:
        if owner.get("kind") == "Job" and owner.get("apiVersion") == "batch/v1":
            return owner.get("uid")
    return None


def slim_workload(body: Mapping[str, Any]) -> dict[str, Any]:
    """What the status reads of a Workload: its name and conditions."""
    status = body.get("status") or {}
    conditions = [
        {key: condition.get(key) for key in ("type", "status", "reason", "message")}
        for condition in status.get("conditions") or []
    ]
    return {"metadata": {"name": body.get("metadata", {}).get("name")}, "status": {"conditions": conditions}}


def waiting(job: Mapping[str, Any] | None, workload: Mapping[str, Any] | None) -> KueueWait | None:
    """Why Kueue has not admitted this Job yet; None when it is not Kueue's or already admitted."""
    queue = queue_of(job)
    if queue is None or not ((job or {}).get("spec") or {}).get("suspend"):
        return None
    conditions = {c.get("type"): c for c in ((workload or {}).get("status") or {}).get("conditions") or []}
    evicted, quota = conditions.get(EVICTED_CONDITION) or {}, conditions.get(WAITING_CONDITION) or {}
    if evicted.get("status") == "True":
        return KueueWait(queue, evicted.get("reason") or "Evicted", evicted.get("message") or "", evicted=True)
    if quota.get("status") == "False":
        return KueueWait(queue, quota.get("reason") or "Pending", quota.get("message") or "")
    return KueueWait(queue, "Pending", f"waiting for Kueue to admit it through LocalQueue {queue}")
