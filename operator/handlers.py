"""kopf handlers: thin glue that feeds watch events to the reconciler.

kopf's index of VideoJobs, and :mod:`.informer`'s of renderer Jobs and Pods, keep what
the reconciler reads in memory; both are full before the first reconcile (kopf fills its
indexes before any other handler runs, the informers list before start-up returns),
which is what makes restarts safe. Handlers only put the VideoJob they concern on the
reconciler's work queue, whose workers never run in a handler's context (Events name
their VideoJob, see events.py). No handler here needs kopf's per-object progress or diff
annotations, so none are written onto VideoJobs (a 64 KiB Markdown source would
otherwise be copied into an annotation).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Mapping
from functools import partial
from typing import Any

import kopf

from videojob.spec import API_GROUP, API_VERSION, PLURAL

from . import kopf_storage, kueue, metrics, slim
from .builders import MANAGED_BY, UID_LABEL
from .cleanup import OutputCleaner
from .events import EventRecorder
from .informer import Informer, OwnedObjects
from .kube import Kube, load_client_config
from .logstream import shrink_tls_read_buffers
from .reconciler import Reconciler
from .settings import get_settings
from .world import World

RENDERER_SELECTOR = f"app.kubernetes.io/managed-by={MANAGED_BY},{UID_LABEL}"  # the renderer Jobs and their Pods
SETTLE_SECONDS = 0.2  # a Job's or Pod's changes this close together make one reconcile
# Reconciles at once. Each mostly waits on API round trips (no thread each: kube.py), and a
# burst's Jobs are created this many at a time; 32 fell behind a 16-thread client under load.
RECONCILE_WORKERS = 64


def collection_paths(prefix: str, plural: str, namespaces: list[str]) -> list[str]:
    """One collection per watched namespace, or the cluster-wide one."""
    return [f"{prefix}/namespaces/{namespace}/{plural}" for namespace in namespaces] or [f"{prefix}/{plural}"]


def kick_when_settled(reconciler: Reconciler, videojob_uid: str) -> None:
    """Reconcile after the Job's and Pods' quick series of changes (created, scheduled, running) has settled.

    One reconcile, and at most one status write, for the series instead of one per event;
    the VideoJob's own events and progress lines still reconcile at once.
    """
    if reconciler.world is not None:
        reconciler.queue.add_after(videojob_uid, SETTLE_SECONDS)


def renderer_job_changed(reconciler: Reconciler, kind: str, videojob_uid: str, job: Mapping[str, Any]) -> None:
    if kind != "DELETED" and kueue.queue_of(job) is None:
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


@kopf.on.startup()
async def start_reconciler(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    settings.peering.standalone = True  # one replica; restarts are safe by construction
    settings.posting.level = logging.INFO
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.networking.request_timeout = 30
    kopf_storage.install(settings, kopf.get_default_registry())  # no per-event deep copies of every body
    shrink_tls_read_buffers()  # one TLS connection per followed Pod: 16 KiB each, not 256 KiB
    operator_settings = get_settings()
    metrics.serve(operator_settings.metrics_port)
    memo.kube = kube = Kube(load_client_config())
    memo.events = EventRecorder(kube)
    memo.events.start()
    memo.reconciler = reconciler = Reconciler(
        operator_settings, kube, OutputCleaner(operator_settings), memo.events.record
    )
    memo.jobs, memo.pods = OwnedObjects(), OwnedObjects()
    informers = [
        Informer(
            kube, path, RENDERER_SELECTOR, UID_LABEL, slim.job, memo.jobs, partial(renderer_job_changed, reconciler)
        )
        for path in collection_paths("/apis/batch/v1", "jobs", operator_settings.namespaces)
    ] + [
        Informer(
            kube, path, RENDERER_SELECTOR, UID_LABEL, slim.pod, memo.pods, partial(renderer_pod_changed, reconciler)
        )
        for path in collection_paths("/api/v1", "pods", operator_settings.namespaces)
    ]
    # Every Job and Pod is listed before kopf starts the VideoJob watch: the first reconcile sees them all.
    await asyncio.gather(*(informer.sync() for informer in informers))
    memo.informers = [asyncio.create_task(informer.run(), context=contextvars.Context()) for informer in informers]
    reconciler.start(RECONCILE_WORKERS)
    metrics.track_videojobs(lambda: reconciler.world)


@kopf.on.cleanup()
async def stop_reconciler(memo: kopf.Memo, **_: Any) -> None:
    for task in memo.informers:
        task.cancel()
    await asyncio.gather(*memo.informers, return_exceptions=True)
    await memo.reconciler.close()
    await memo.events.close()
    await memo.kube.close()


# The indexes keep only what the reconciler reads (no managedFields, no annotations):
# with a thousand VideoJobs in memory, that is most of the operator's footprint.
# They are coroutines on purpose: kopf runs a plain function in a thread pool, one thread
# round trip per watch event (in a 1,000-VideoJob burst, as many as all the API calls).


@kopf.index(API_GROUP, API_VERSION, PLURAL)
async def videojobs_by_uid(uid: str, body: kopf.Body, memo: kopf.Memo, **_: Any) -> dict[str, dict[str, Any]]:
    memo.reconciler.admission.weigh_videojob(uid, body)  # as it enters the index: see Admission.decide
    return {uid: slim.videojob(body)}


@kopf.index(kueue.API_GROUP, kueue.API_VERSION, kueue.PLURAL)  # served only where Kueue is installed
async def workloads_by_job(body: kopf.Body, **_: Any) -> dict[str, dict[str, Any]] | None:
    job_uid = kueue.owner_job_uid(body)
    return {job_uid: kueue.slim_workload(body)} if job_uid else None


@kopf.index("scheduling.k8s.io", "v1", "priorityclasses")
async def priority_values(name: str, body: kopf.Body, **_: Any) -> dict[str, int]:
    return {name: int(body.get("value") or 0)}


def _reconciler(memo: kopf.Memo, indexes: dict[str, Any]) -> Reconciler:
    reconciler: Reconciler = memo.reconciler
    reconciler.bind(
        World(
            videojobs=indexes["videojobs_by_uid"],
            jobs=memo.jobs,
            pods=memo.pods,
            priorities=indexes["priority_values"],
            workloads=indexes["workloads_by_job"],
        )
    )
    return reconciler


@kopf.on.event(API_GROUP, API_VERSION, PLURAL)
async def videojob_changed(type: str, uid: str, body: kopf.Body, memo: kopf.Memo, **kwargs: Any) -> None:
    reconciler = _reconciler(memo, kwargs)
    if type == "DELETED":
        reconciler.admission.drop(uid)
        reconciler.forget(uid)
    elif not (type == "MODIFIED" and reconciler.statuses.is_echo(body)):  # our own status write coming back
        reconciler.kick(uid)


@kopf.on.event(kueue.API_GROUP, kueue.API_VERSION, kueue.PLURAL)
async def workload_changed(body: kopf.Body, memo: kopf.Memo, **kwargs: Any) -> None:
    """Kueue admitted a renderer Job, or says why not: reconcile its VideoJob."""
    reconciler = _reconciler(memo, kwargs)
    job_uid = kueue.owner_job_uid(body)
    if job_uid and (videojob_uid := reconciler.videojob_of_job(job_uid)) is not None:
        reconciler.kick(videojob_uid)
