"""The operator's start: kopf's settings, the watches, and the first pass over every VideoJob.

A restarted operator must be live within seconds whatever the number of VideoJobs, and a
VideoJob submitted during the restart must not wait behind thousands that need nothing.
The start-up handler therefore only builds the parts and returns (kopf serves its health
endpoint once it has); in the background, as controller-runtime's manager does:

1. VideoJobs, renderer Jobs and renderer Pods are listed page by page into the stores
   (:class:`~.informer.Informer`; no per-object kopf task, no handler call), then watched.
2. Once every list is in, and kopf has filled its own indexes (PriorityClasses, Kueue's
   Workloads: its first PriorityClass event comes after them), the reconciler's world is
   bound, every VideoJob goes on the work queue, and the workers start. Level-triggered:
   every VideoJob is looked at after a restart. Those that need something (new, spec
   changed, being deleted, a render that ended while no operator ran) go at normal
   priority; the rest, only a look, at low priority, so that a watch event from then on
   (a VideoJob created a moment ago) is reconciled before them.
3. When each VideoJob of that first pass has been reconciled once, the log and
   ``videojob_operator_first_pass_seconds`` say how long it took.

At 10,000 VideoJobs the starting commit listed Jobs and Pods before kopf answered (64.7 s
to live under load 17), and kopf then ran a task and two handlers per VideoJob before the
first reconcile (over two minutes); see benchmarks/operator_10k.py for the figures now.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import kopf
from prometheus_client import Gauge

from videojob.spec import API_GROUP, API_VERSION, PLURAL

from . import kopf_storage, metrics, reasons, slim
from .admission import finished
from .builders import MANAGED_BY, UID_LABEL
from .cleanup import OutputCleaner
from .events import EventRecorder
from .handlers import renderer_ended, renderer_job_changed, renderer_pod_changed, videojob_changed
from .informer import Informer, OwnedObjects, own_uid
from .kube import Kube, load_client_config
from .logstream import shrink_tls_read_buffers
from .reconciler import Reconciler
from .settings import get_settings
from .world import World

logger = logging.getLogger(__name__)

RENDERER_SELECTOR = f"app.kubernetes.io/managed-by={MANAGED_BY},{UID_LABEL}"  # the renderer Jobs and their Pods
# Reconciles at once. Each mostly waits on API round trips (no thread each: kube.py), and a
# burst's Jobs are created this many at a time; 32 fell behind a 16-thread client under load.
RECONCILE_WORKERS = 64
# kopf's indexes are full when its first event handler runs; a cluster always has PriorityClasses (the API server
# makes two), so that comes at once. Should it not, the first pass starts anyway after this long.
KOPF_INDEXES_WAIT_SECONDS = 30.0
# The logs of the renderer Pods found at the start are followed this many at a time, then a pause: at 10,000
# running Pods, opening every log at once (a TLS connection each) held the event loop off the first pass.
FOLLOW_BATCH, FOLLOW_PAUSE_SECONDS = 100, 0.1

FIRST_PASS_SECONDS = Gauge(
    "videojob_operator_first_pass_seconds",
    "Seconds from the operator's start until it had reconciled every VideoJob it found once (0 until then).",
)
FIRST_PASS_LISTED_SECONDS = Gauge(
    "videojob_operator_first_pass_listed_seconds",
    "Seconds from the operator's start until its lists were in and its first pass began (0 until then).",
)
FIRST_PASS_VIDEOJOBS = Gauge(
    "videojob_operator_first_pass_videojobs", "VideoJobs the operator found at its start (its first pass)."
)


def collection_paths(prefix: str, plural: str, namespaces: list[str]) -> list[str]:
    """One collection per watched namespace, or the cluster-wide one."""
    return [f"{prefix}/namespaces/{namespace}/{plural}" for namespace in namespaces] or [f"{prefix}/{plural}"]


def needs_attention(
    body: Mapping[str, Any], job: Mapping[str, Any] | None, pods: Sequence[Mapping[str, Any]] = ()
) -> bool:
    """Whether a VideoJob found at the start needs something done, rather than only a look.

    New (no status yet), its spec changed (observedGeneration behind), being deleted, a render
    that ended (its Job finished, or a renderer container of ``pods`` terminated) while the status
    does not say so yet, or Pending with no Job.
    """
    metadata, status = body["metadata"], body.get("status") or {}
    phase = status.get("phase")
    over = phase in reasons.TERMINAL_PHASES
    return bool(
        metadata.get("deletionTimestamp")
        or not phase
        or status.get("observedGeneration") != metadata.get("generation")
        or (not over and job is not None and (finished(job) or any(renderer_ended(pod) for pod in pods)))
        or (job is None and phase == reasons.PENDING)
    )


def first_pass(reconciler: Reconciler, world: World, started: float) -> None:
    """Every VideoJob on the queue, by what it needs; report when each has been reconciled once."""
    uids = []
    for uid, body in world.all_videojobs():
        job = world.job(uid)
        reconciler.queue.add(uid, low_priority=not needs_attention(body, job, world.job_pods(uid, job)))
        uids.append(uid)
    listed = time.monotonic() - started
    FIRST_PASS_VIDEOJOBS.set(len(uids))
    FIRST_PASS_LISTED_SECONDS.set(max(listed, 1e-3))

    def over(count: int, seconds: float) -> None:
        FIRST_PASS_SECONDS.set(max(time.monotonic() - started, 1e-3))
        logger.info(
            "first pass over %d VideoJobs done %.1f s after the start (listed after %.1f s, then %.1f s of reconciles)",
            count,
            time.monotonic() - started,
            listed,
            seconds,
        )

    reconciler.queue.watch_pass(uids, over)


async def begin_when_listed(
    reconciler: Reconciler,
    informers: list[Informer],
    world: World,
    kopf_indexed: asyncio.Event,
    started: float,
    watches: list[asyncio.Task[None]],
) -> None:
    """List, start the watches (into ``watches``), bind the world once kopf's indexes are full, then the first
    pass and the workers."""
    await asyncio.gather(*(informer.sync() for informer in informers))
    logger.info("every list is in, %.1f s after the start", time.monotonic() - started)
    watches += [asyncio.create_task(informer.run(), context=contextvars.Context()) for informer in informers]
    try:
        await asyncio.wait_for(kopf_indexed.wait(), KOPF_INDEXES_WAIT_SECONDS)
    except TimeoutError:
        logger.warning("no PriorityClass event from kopf within %.0f s: reconciling without", KOPF_INDEXES_WAIT_SECONDS)
    reconciler.bind(world)
    first_pass(reconciler, world, started)
    reconciler.start(RECONCILE_WORKERS)
    watches.append(asyncio.create_task(follow_listed_pods(reconciler, world.pods), context=contextvars.Context()))


def pod_changed_once_listed(reconciler: Reconciler, kind: str, videojob_uid: str, pod: Mapping[str, Any]) -> None:
    """A renderer Pod's watch event, once the world is bound; before, the Pod is only stored (the first pass
    reconciles its VideoJob, follow_listed_pods follows its log)."""
    if reconciler.world is not None:
        renderer_pod_changed(reconciler, kind, videojob_uid, pod)


async def follow_listed_pods(reconciler: Reconciler, pods: Mapping[str, Any]) -> None:
    """Follow the log of every running renderer Pod found at the start, FOLLOW_BATCH at a time."""
    listed = [(uid, pod) for uid in list(pods) for pod in pods.get(uid) or ()]
    for start in range(0, len(listed), FOLLOW_BATCH):
        for uid, pod in listed[start : start + FOLLOW_BATCH]:
            reconciler.watch_pod(uid, pod)  # once per Pod: one the watch has shown since is not followed twice
        await asyncio.sleep(FOLLOW_PAUSE_SECONDS)


@kopf.on.startup()
async def start_reconciler(settings: kopf.OperatorSettings, memo: kopf.Memo, **kwargs: Any) -> None:
    started = time.monotonic()
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
    memo.kopf_indexed = asyncio.Event()
    memo.videojobs, memo.jobs, memo.pods = OwnedObjects(), OwnedObjects(), OwnedObjects()
    namespaces = operator_settings.namespaces
    informers = [
        Informer(kube, path, "", own_uid, slim.videojob, memo.videojobs, partial(videojob_changed, reconciler))
        for path in collection_paths(f"/apis/{API_GROUP}/{API_VERSION}", PLURAL, namespaces)
    ]
    informers += [
        Informer(
            kube, path, RENDERER_SELECTOR, UID_LABEL, slim.job, memo.jobs, partial(renderer_job_changed, reconciler)
        )
        for path in collection_paths("/apis/batch/v1", "jobs", namespaces)
    ]
    informers += [
        Informer(
            kube, path, RENDERER_SELECTOR, UID_LABEL, slim.pod, memo.pods, partial(pod_changed_once_listed, reconciler)
        )
        for path in collection_paths("/api/v1", "pods", namespaces)
    ]
    # kopf hands a start-up handler its indexes, empty now, filled by kopf before its first event handler runs.
    world = World(
        videojobs=memo.videojobs,
        jobs=memo.jobs,
        pods=memo.pods,
        priorities=kwargs["priority_values"],
        workloads=kwargs["workloads_by_job"],
    )
    memo.watches = []
    memo.beginning = asyncio.create_task(
        begin_when_listed(reconciler, informers, world, memo.kopf_indexed, started, memo.watches),
        context=contextvars.Context(),
    )
    metrics.track_videojobs(lambda: reconciler.world)


@kopf.on.cleanup()
async def stop_reconciler(memo: kopf.Memo, **_: Any) -> None:
    tasks = [memo.beginning, *memo.watches]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await memo.reconciler.close()
    await memo.events.close()
    await memo.kube.close()
