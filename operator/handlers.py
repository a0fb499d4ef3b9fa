"""kopf handlers: thin glue that feeds watch events to the reconciler.

Indexes keep what the reconciler reads in memory (kopf fills them before any other
handler runs, which is what makes restarts safe); event handlers only put the VideoJob
they concern on the reconciler's work queue, whose workers never run in a handler's
context (Events name their VideoJob, see events.py). No handler here needs kopf's
per-object progress or diff annotations, so none are written onto VideoJobs (a 64 KiB
Markdown source would otherwise be copied into an annotation).
"""

from __future__ import annotations

import logging
from typing import Any

import kopf

from videojob.spec import API_GROUP, API_VERSION, PLURAL

from . import kopf_storage, kueue, metrics, slim
from .builders import MANAGED_BY, UID_LABEL
from .cleanup import OutputCleaner
from .events import EventRecorder
from .kube import Kube, load_client_config
from .logstream import shrink_tls_read_buffers
from .reconciler import Reconciler
from .settings import get_settings
from .world import World

MANAGED: dict[str, Any] = {"app.kubernetes.io/managed-by": MANAGED_BY, UID_LABEL: kopf.PRESENT}


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
    memo.reconciler = Reconciler(operator_settings, kube, OutputCleaner(operator_settings), memo.events.record)
    memo.reconciler.start()
    metrics.track_videojobs(lambda: memo.reconciler.world)


@kopf.on.cleanup()
async def stop_reconciler(memo: kopf.Memo, **_: Any) -> None:
    await memo.reconciler.close()
    await memo.events.close()
    await memo.kube.close()


# The indexes keep only what the reconciler reads (no managedFields, no annotations):
# with a thousand VideoJobs, Jobs and Pods in memory, that is most of the operator's footprint.
# They are coroutines on purpose: kopf runs a plain function in a thread pool, one thread
# round trip per watch event (in a 1,000-VideoJob burst, as many as all the API calls).


@kopf.index(API_GROUP, API_VERSION, PLURAL)
async def videojobs_by_uid(uid: str, body: kopf.Body, **_: Any) -> dict[str, dict[str, Any]]:
    return {uid: slim.videojob(body)}


@kopf.index("batch", "v1", "jobs", labels=MANAGED)
async def jobs_by_videojob(labels: kopf.Labels, body: kopf.Body, **_: Any) -> dict[str, dict[str, Any]]:
    return {labels[UID_LABEL]: slim.job(body)}


@kopf.index("", "v1", "pods", labels=MANAGED)
async def pods_by_videojob(labels: kopf.Labels, body: kopf.Body, **_: Any) -> dict[str, dict[str, Any]]:
    return {labels[UID_LABEL]: slim.pod(body)}


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
            jobs=indexes["jobs_by_videojob"],
            pods=indexes["pods_by_videojob"],
            priorities=indexes["priority_values"],
            workloads=indexes["workloads_by_job"],
        )
    )
    return reconciler


@kopf.on.event(API_GROUP, API_VERSION, PLURAL)
async def videojob_changed(type: str, uid: str, body: kopf.Body, memo: kopf.Memo, **kwargs: Any) -> None:
    reconciler = _reconciler(memo, kwargs)
    if type == "DELETED":
        reconciler.forget(uid)
    elif not (type == "MODIFIED" and reconciler.statuses.is_echo(body)):  # our own status write coming back
        reconciler.kick(uid)


@kopf.on.event("batch", "v1", "jobs", labels=MANAGED)
async def renderer_job_changed(labels: kopf.Labels, memo: kopf.Memo, **kwargs: Any) -> None:
    _reconciler(memo, kwargs).kick(labels[UID_LABEL])


@kopf.on.event(kueue.API_GROUP, kueue.API_VERSION, kueue.PLURAL)
async def workload_changed(body: kopf.Body, memo: kopf.Memo, **kwargs: Any) -> None:
    """Kueue admitted a renderer Job, or says why not: reconcile its VideoJob."""
    reconciler = _reconciler(memo, kwargs)
    job_uid = kueue.owner_job_uid(body)
    if job_uid and (videojob_uid := reconciler.videojob_of_job(job_uid)) is not None:
        reconciler.kick(videojob_uid)


@kopf.on.event("", "v1", "pods", labels=MANAGED)
async def renderer_pod_changed(type: str, labels: kopf.Labels, body: kopf.Body, memo: kopf.Memo, **kwargs: Any) -> None:
    reconciler = _reconciler(memo, kwargs)
    videojob_uid = labels[UID_LABEL]
    if type != "DELETED":
        reconciler.watch_pod(videojob_uid, body)
    reconciler.kick(videojob_uid)
