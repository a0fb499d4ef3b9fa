"""Thin glue that feeds watch events to the reconciler: :mod:`.informer`'s (VideoJobs, renderer Jobs and
Pods) and kopf's (PriorityClasses, Kueue's Workloads).

The stores keep what the reconciler reads in memory; every one is full before the first
reconcile (:mod:`.startup` starts the workers only then), which is what makes restarts
safe. Handlers only put the VideoJob they concern on the reconciler's work queue, whose
workers never run in a handler's context (Events name their VideoJob, see events.py). No
kopf handler here needs kopf's per-object progress or diff annotations, so none are
written onto any object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf

from . import kueue
from .reconciler import Reconciler

SETTLE_SECONDS = 0.2  # a Job's or Pod's changes this close together make one reconcile


def kick_when_settled(reconciler: Reconciler, videojob_uid: str) -> None:
    """Reconcile after the Job's and Pods' quick series of changes (created, scheduled, running) has settled.

    One reconcile, and at most one status write, for the series instead of one per event;
    the VideoJob's own events and progress lines still reconcile at once.
    """
    if reconciler.world is not None:
        reconciler.queue.add_after(videojob_uid, SETTLE_SECONDS)


def renderer_job_changed(reconciler: Reconciler, kind: str, videojob_uid: str, job: Mapping[str, Any]) -> None:
    if kind == "DELETED":
        reconciler.admission.job_gone(videojob_uid)
    elif kueue.queue_of(job) is None:
        reconciler.admission.weigh_job(videojob_uid, job)  # Kueue's Jobs take none of the operator's slots
    kick_when_settled(reconciler, videojob_uid)


def renderer_ended(pod: Mapping[str, Any]) -> bool:
    """Whether a renderer container in ``pod`` has terminated: its termination message is the result."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return any("terminated" in (status.get("state") or {}) for status in statuses)


def renderer_pod_changed(reconciler: Reconciler, kind: str, videojob_uid: str, pod: Mapping[str, Any]) -> None:
    if kind != "DELETED":
        reconciler.watch_pod(videojob_uid, pod)
    if kind != "DELETED" and renderer_ended(pod) and reconciler.world is not None:
        # The render's end (its video stored, or its failure) is what a user waits for: shown at
        # once, not after the settle pause; the Job controller's own changes that follow still settle.
        reconciler.queue.add(videojob_uid)
        return
    kick_when_settled(reconciler, videojob_uid)


def videojob_changed(reconciler: Reconciler, kind: str, uid: str, body: Mapping[str, Any]) -> None:
    if kind == "DELETED":
        reconciler.admission.drop(uid)
        reconciler.forget(uid)
        return
    reconciler.admission.weigh_videojob(uid, body)  # as it enters the store: see Admission.decide
    if not (kind == "MODIFIED" and reconciler.statuses.is_echo(body)):  # our own status write coming back
        reconciler.kick(uid)


# kopf's indexes keep only what the reconciler reads. They are coroutines on purpose: kopf runs a
# plain function in a thread pool, one thread round trip per watch event.


@kopf.index(kueue.API_GROUP, kueue.API_VERSION, kueue.PLURAL)  # served only where Kueue is installed
async def workloads_by_job(body: kopf.Body, **_: Any) -> dict[str, dict[str, Any]] | None:
    job_uid = kueue.owner_job_uid(body)
    return {job_uid: kueue.slim_workload(body)} if job_uid else None


@kopf.index("scheduling.k8s.io", "v1", "priorityclasses")
async def priority_values(name: str, body: kopf.Body, **_: Any) -> dict[str, int]:
    return {name: int(body.get("value") or 0)}


@kopf.on.event("scheduling.k8s.io", "v1", "priorityclasses")
async def priority_class_seen(memo: kopf.Memo, **_: Any) -> None:
    """kopf runs no event handler before every index is full: the first reconcile may begin (startup.py)."""
    memo.kopf_indexed.set()


@kopf.on.event(kueue.API_GROUP, kueue.API_VERSION, kueue.PLURAL)
async def workload_changed(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """Kueue admitted a renderer Job, or says why not: reconcile its VideoJob."""
    reconciler: Reconciler = memo.reconciler
    job_uid = kueue.owner_job_uid(body)
    if job_uid and (videojob_uid := reconciler.videojob_of_job(job_uid)) is not None:
        reconciler.kick(videojob_uid)
