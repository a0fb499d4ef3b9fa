"""Level-triggered reconciliation of one VideoJob: fetch, exit early, build, apply, write status.

Every watch event (VideoJob, its Job, its Pods, a progress line) only *kicks* the
VideoJob's uid; kicks coalesce, and one reconcile per VideoJob runs at a time. The
reconcile reads kopf's in-memory indexes, which kopf fills before any handler runs,
so a restarted operator sees the Jobs it created before and creates no second one
(and a 409 on create is taken as "already there" for the rare race).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import kopf
from pydantic import ValidationError

from . import metrics, reasons
from videojob.spec import VideoJobSpec

from .builders import RENDERER_CONTAINER, build_renderer_job, build_spec_configmap, output_prefix
from .cleanup import OutputCleaner
from .errors import CleanupNotConfigured, OperatorError, retry_delay
from .failures import job_failed, job_succeeded, pods_by_age
from .kube import Kube
from .progress import ProgressBoard, follow
from .queue import QueueDecision, Waiting, decide
from .settings import OperatorSettings
from .status import Observation, compute_status, status_patch

logger = logging.getLogger(__name__)

FINALIZER = "videojob.dev/output-cleanup"
ADMISSION_GRACE_SECONDS = 30.0  # how long a just-created Job counts as running before its watch event arrives


@dataclass
class World:
    """kopf's indexes, keyed by VideoJob uid (priorities by PriorityClass name)."""

    videojobs: Mapping[str, Iterable[Mapping[str, Any]]]
    jobs: Mapping[str, Iterable[Mapping[str, Any]]]
    pods: Mapping[str, Iterable[Mapping[str, Any]]]
    priorities: Mapping[str, Iterable[int]]


def _first(store: Iterable[Any] | None) -> Any:
    return next(iter(store), None) if store is not None else None


def _finished(job: Mapping[str, Any] | None) -> bool:
    return bool(job_succeeded(job) or job_failed(job))


def _rv(body: Mapping[str, Any]) -> int:
    try:
        return int(body["metadata"].get("resourceVersion") or 0)
    except ValueError:
        return 0


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


EventSink = Callable[[Mapping[str, Any], str, str, str], None]  # (body, type, reason, message)


def post_kubernetes_event(body: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
    """An Event on the VideoJob through kopf's poster (batched, retried, non-blocking)."""
    kopf.event(body, type=type_, reason=reason, message=message[:1024])


class Reconciler:
    def __init__(self, settings: OperatorSettings, kube: Kube, cleaner: OutputCleaner,
                 events: EventSink = post_kubernetes_event) -> None:
        self.settings, self.kube, self.cleaner, self.events = settings, kube, cleaner, events
        self.board = ProgressBoard()
        self.world: World | None = None
        self._context: contextvars.Context | None = None
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._scheduled: set[str] = set()
        self._admitted_at: dict[str, float] = {}
        self._written: dict[str, tuple[int, dict[str, Any]]] = {}
        self._failures: dict[str, int] = {}
        self._followers: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._refresh_pending = False
        self._queue_length = 0
        self._configmap_ensured: set[str] = set()

    # --- scheduling -------------------------------------------------------------------------

    def bind(self, world: World) -> None:
        if self.world is None:
            self.world = world
            # kopf keeps its Event poster in context variables set only inside its handlers; every
            # reconcile runs in this copy, whoever kicked it (a handler, the resync loop, a timer).
            self._context = contextvars.copy_context()

    def kick(self, uid: str) -> None:
        """Reconcile this VideoJob soon; many kicks before it starts make one reconcile."""
        if uid in self._scheduled or self.world is None:
            return
        self._scheduled.add(uid)
        self._spawn(self._run(uid))

    def kick_later(self, uid: str, delay: float) -> None:
        asyncio.get_running_loop().call_later(delay, self.kick, uid, context=self._context)

    def _spawn(self, coroutine: Any) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coroutine, context=self._context)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run(self, uid: str) -> None:
        async with self._locks[uid]:
            self._scheduled.discard(uid)  # an event from now on needs another pass
            try:
                await self.reconcile(uid)
                self._failures.pop(uid, None)
                metrics.RECONCILES.labels("ok").inc()
            except Exception as error:  # noqa: BLE001 - every error is logged and retried here
                metrics.RECONCILES.labels("error").inc()
                attempt = self._failures[uid] = self._failures.get(uid, 0) + 1
                delay = retry_delay(error, attempt)
                logger.warning("reconciling VideoJob %s failed (attempt %d): %s", uid, attempt, error,
                               exc_info=not isinstance(error, OperatorError) and attempt == 1)
                if delay is not None:
                    self.kick_later(uid, delay)

    def forget(self, uid: str) -> None:
        self.board.forget(uid)
        for key in (self._written, self._admitted_at, self._failures):
            key.pop(uid, None)
        self._configmap_ensured.discard(uid)
        if not self._locks[uid].locked():
            self._locks.pop(uid, None)
        self.refresh_queue()

    def refresh_queue(self) -> None:
        """Re-reconcile every waiting VideoJob (slots freed, positions moved); at most once per tick."""
        if self._refresh_pending or self.world is None:
            return
        self._refresh_pending = True

        def run() -> None:
            self._refresh_pending = False
            for uid, store in list(self.world.videojobs.items()):
                if (self._status(_first(store)) or {}).get("phase") in (reasons.QUEUED, None, reasons.PENDING):
                    self.kick(uid)

        asyncio.get_running_loop().call_later(0.05, run, context=self._context)

    def resync(self) -> None:
        for uid in list(self.world.videojobs.keys()) if self.world else ():
            self.kick(uid)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.kube.close()

    # --- reading the world ------------------------------------------------------------------

    def _status(self, body: Mapping[str, Any] | None) -> dict[str, Any]:
        """The newest status we know: the watched one, or the one we wrote if the watch lags."""
        if body is None:
            return {}
        uid = body["metadata"]["uid"]
        written = self._written.get(uid)
        if written is not None:
            if written[0] > _rv(body):
                return written[1]
            del self._written[uid]  # the watch has caught up; no need to keep a copy
        return dict(body.get("status") or {})

    def _job(self, uid: str) -> Mapping[str, Any] | None:
        jobs = list(self.world.jobs.get(uid) or ())
        return max(jobs, key=lambda job: job["metadata"]["name"]) if jobs else None

    def _pods(self, uid: str, job: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
        if job is None:
            return []
        name = job["metadata"]["name"]
        return [pod for pod in self.world.pods.get(uid) or () if (pod["metadata"].get("labels") or {}).get("job-name") == name
                or (pod["metadata"].get("labels") or {}).get("batch.kubernetes.io/job-name") == name]

    def _holds_slot(self, uid: str, job: Mapping[str, Any] | None, now: float) -> bool:
        if job is not None and not _finished(job) and not (job.get("spec") or {}).get("suspend"):
            return True
        # Admitted a moment ago: the Job (or its unsuspension) is not in the index yet.
        admitted = self._admitted_at.get(uid)
        return admitted is not None and now - admitted < ADMISSION_GRACE_SECONDS

    def _queue(self) -> QueueDecision:
        if len(self.world.videojobs) <= self.settings.max_concurrent_renders:
            # Room for every VideoJob there is: nobody waits, and a burst skips the O(n) scan.
            if self._queue_length:
                self._queue_length = 0
                metrics.QUEUE_LENGTH.set(0)
            return QueueDecision(frozenset(self.world.videojobs.keys()), {}, 0)
        loop_now = asyncio.get_running_loop().time()
        running, waiting = 0, []
        for uid, store in self.world.videojobs.items():
            body = _first(store)
            if body is None or body["metadata"].get("deletionTimestamp"):
                continue
            if self._status(body).get("phase") in reasons.TERMINAL_PHASES:
                continue
            job = self._job(uid)
            if self._holds_slot(uid, job, loop_now):
                running += 1
            elif not (body.get("spec") or {}).get("suspend") and not _finished(job):
                spec = body.get("spec") or {}
                priority = _first(self.world.priorities.get(spec.get("priorityClassName") or "")) or 0
                metadata = body["metadata"]
                waiting.append(Waiting(uid, priority, metadata.get("creationTimestamp") or "", metadata["namespace"], metadata["name"]))
        decision = decide(waiting, running, self.settings.max_concurrent_renders)
        if decision.length != self._queue_length:  # everyone's "position N of M" moved
            self._queue_length = decision.length
            metrics.QUEUE_LENGTH.set(decision.length)
            self.refresh_queue()
        return decision

    # --- the reconcile ----------------------------------------------------------------------

    async def reconcile(self, uid: str) -> None:
        body = _first(self.world.videojobs.get(uid))
        if body is None:
            return
        metadata = body["metadata"]
        namespace, name = metadata["namespace"], metadata["name"]
        if metadata.get("deletionTimestamp"):
            await self._finalize(body)
            return
        old_status = self._status(body)
        body = {**body, "status": old_status}
        now = datetime.now(timezone.utc)
        try:
            spec = VideoJobSpec.model_validate(body.get("spec") or {})
        except ValidationError as error:
            problems = "; ".join(f"spec.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
            await self._write(body, compute_status(body, Observation(now=now, invalid_spec=problems)))
            return
        await self._sync_finalizer(body, spec)

        job = self._job(uid)
        if job is not None and not (job.get("spec") or {}).get("suspend"):
            self._admitted_at.pop(uid, None)  # the index shows what admission did
        if old_status.get("phase") in reasons.TERMINAL_PHASES and (job is None or _finished(job)):
            if job is None:  # the Job was removed after the end: the status already says everything
                await self._expire_if_due(body, spec, old_status, now)
                return
        position = length = None
        if job is None and not spec.suspend:
            decision = self._queue()
            if uid in decision.admitted:
                job = await self._start(body, spec)
            else:
                position, length = decision.positions.get(uid), decision.length
        elif job is not None and not _finished(job):
            if uid not in self._configmap_ensured:
                # The ConfigMap is created alongside the Job; after a crash between the two, make it now.
                await self.kube.create_if_absent(build_spec_configmap(body, spec))
                self._configmap_ensured.add(uid)
            job_suspended = bool((job.get("spec") or {}).get("suspend"))
            if spec.suspend and not job_suspended:
                await self.kube.set_job_suspend(namespace, job["metadata"]["name"], True)
                self._admitted_at.pop(uid, None)
                self.refresh_queue()
            elif not spec.suspend and job_suspended:
                decision = self._queue()
                if uid in decision.admitted:
                    await self.kube.set_job_suspend(namespace, job["metadata"]["name"], False)
                    self._admitted_at[uid] = asyncio.get_running_loop().time()
                else:
                    position, length = decision.positions.get(uid), decision.length

        pods = pods_by_age(self._pods(uid, job))
        newest_pod_uid = pods[-1]["metadata"].get("uid") if pods else None
        seen = Observation(now=now, job=job, pods=pods, progress=self.board.latest(uid, newest_pod_uid),
                           queue_position=position, queue_length=length)
        new_status = compute_status(body, seen)
        await self._write(body, new_status)
        if new_status.get("queuePosition") != old_status.get("queuePosition"):
            self.refresh_queue()  # the ones behind this one moved too
        if new_status["phase"] in reasons.TERMINAL_PHASES:
            await self._expire_if_due(body, spec, new_status, now)

    async def _start(self, body: Mapping[str, Any], spec: VideoJobSpec) -> dict[str, Any]:
        self._admitted_at[body["metadata"]["uid"]] = asyncio.get_running_loop().time()
        job = build_renderer_job(body, self.settings)
        # Both at once: the kubelet waits for a missing ConfigMap volume, so the order does not matter.
        _, created = await asyncio.gather(self.kube.create_if_absent(build_spec_configmap(body, spec)),
                                          self.kube.create_if_absent(job))
        self._configmap_ensured.add(body["metadata"]["uid"])
        if created:
            self.events(body, "Normal", "JobCreated", f"Created renderer Job {job['metadata']['name']}")
            metrics.JOB_CREATION.observe(asyncio.get_running_loop().time() - self._admitted_at[body["metadata"]["uid"]])
        return job

    async def _write(self, body: Mapping[str, Any], new_status: dict[str, Any]) -> None:
        old_status = body.get("status") or {}
        patch = status_patch(old_status, new_status)
        if not patch:
            return
        metadata = body["metadata"]
        response = await self.kube.patch_videojob_status(metadata["namespace"], metadata["name"], patch)
        self._written[metadata["uid"]] = (_rv(response), dict(response.get("status") or {}))
        self._announce(body, old_status, new_status)

    def _announce(self, body: Mapping[str, Any], old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        """Kubernetes Events for phase changes and failures, for `kubectl describe`."""
        failure = new.get("failure")
        if failure and failure != old.get("failure"):
            self.events(body, "Warning", failure["reason"], failure["message"])
        if new.get("phase") != old.get("phase"):
            metrics.PHASE_CHANGES.labels(new["phase"]).inc()
            if new["phase"] == reasons.PHASE_FAILED and failure:
                metrics.FAILURES.labels(failure["reason"]).inc()
            kind = "Warning" if new["phase"] == reasons.PHASE_FAILED else "Normal"
            self.events(body, kind, new["phase"], new.get("stage", ""))
            if new["phase"] in reasons.TERMINAL_PHASES or new["phase"] == reasons.SUSPENDED:
                self.refresh_queue()

    async def _sync_finalizer(self, body: Mapping[str, Any], spec: VideoJobSpec) -> None:
        metadata = body["metadata"]
        finalizers = list(metadata.get("finalizers") or [])
        wanted = spec.output.retention == "Delete"
        if wanted == (FINALIZER in finalizers):
            return
        updated = finalizers + [FINALIZER] if wanted else [f for f in finalizers if f != FINALIZER]
        await self.kube.set_videojob_finalizers(metadata["namespace"], metadata["name"], updated, metadata["resourceVersion"])

    async def _finalize(self, body: Mapping[str, Any]) -> None:
        metadata = body["metadata"]
        uid = metadata["uid"]
        if FINALIZER in (metadata.get("finalizers") or []):
            spec = VideoJobSpec.model_validate(body.get("spec") or {})
            bucket = spec.output.bucket or self.settings.s3_bucket
            prefix = output_prefix(metadata["namespace"], metadata["name"], uid, spec)
            try:
                count = await self.cleaner.delete_prefix(bucket, prefix)
            except CleanupNotConfigured as error:
                self.events(body, "Warning", "OutputCleanupBlocked", str(error))
                raise
            self.events(body, "Normal", "OutputDeleted", f"Deleted {count} object(s) under s3://{bucket}/{prefix}")
            remaining = [f for f in metadata["finalizers"] if f != FINALIZER]
            await self.kube.set_videojob_finalizers(metadata["namespace"], metadata["name"], remaining, metadata["resourceVersion"])
        self.refresh_queue()

    async def _expire_if_due(self, body: Mapping[str, Any], spec: VideoJobSpec, status: Mapping[str, Any], now: datetime) -> None:
        if spec.ttl_seconds_after_finished is None or not status.get("completionTime"):
            return
        due = _parse_time(status["completionTime"]) + timedelta(seconds=spec.ttl_seconds_after_finished)
        metadata = body["metadata"]
        if now >= due:
            await self.kube.delete_videojob(metadata["namespace"], metadata["name"], metadata["uid"])
        else:
            self.kick_later(metadata["uid"], min((due - now).total_seconds(), 3600.0) + 0.1)

    # --- progress ---------------------------------------------------------------------------

    def watch_pod(self, videojob_uid: str, pod: Mapping[str, Any]) -> None:
        """Follow a running renderer's log for progress events, once per Pod."""
        pod_uid = pod["metadata"]["uid"]
        running = any("running" in (s.get("state") or {}) for s in (pod.get("status") or {}).get("containerStatuses") or [])
        if running and pod_uid not in self._followers:
            self._followers[pod_uid] = self._spawn(self._follow(videojob_uid, pod))

    async def _follow(self, videojob_uid: str, pod: Mapping[str, Any]) -> None:
        metadata = pod["metadata"]

        def on_event(event: Any) -> None:
            metrics.PROGRESS_EVENTS.inc()
            if self.board.record(videojob_uid, metadata["uid"], event):
                self.kick(videojob_uid)

        def lines() -> Iterable[str]:
            return self.kube.follow_log(metadata["namespace"], metadata["name"], RENDERER_CONTAINER,
                                        self.settings.progress_log_tail_lines)

        try:
            await follow(lines, on_event)
        except Exception as error:  # noqa: BLE001 - the Pod went away or the stream broke; the next Pod event retries
            logger.debug("stopped following %s/%s: %s", metadata["namespace"], metadata["name"], error)
        finally:
            self._followers.pop(metadata["uid"], None)
