"""Level-triggered reconciliation of one VideoJob: fetch, exit early, build, apply, write status.

Every watch event (VideoJob, its Job, its Pods, a progress line) only adds the VideoJob's
uid to a :class:`~.workqueue.WorkQueue`; its workers run :meth:`Reconciler.reconcile`,
one at a time per VideoJob. The reconcile reads kopf's in-memory indexes (see
:mod:`.world`), so a restarted operator sees the Jobs it created before and creates no
second one (and a 409 on create is taken as "already there" for the rare race).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import math
from collections.abc import AsyncIterable, Coroutine, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from videojob.contract import ProgressEvent, Result, ShareDone
from videojob.spec import VideoJobSpec

from . import attempts, fanout, kueue, logs, metrics, reasons
from .admission import Admission, finished, suspended
from .builders import RENDERER_CONTAINER, output_prefix
from .cleanup import FINALIZER, OutputCleaner, finalizers_for, without_finalizer
from .errors import CleanupNotConfigured, OperatorError, retry_base
from .events import EventSink
from .failures import pods_by_age
from .kube import ClusterApi
from .launcher import Launcher
from .lecture_check import LectureChecks
from .progress import ProgressBoard, follow_until_exit
from .settings import OperatorSettings
from .status import Observation, compute_status, shares_left_unjoined, status_patch
from .workqueue import WorkQueue
from .world import World, WrittenStatuses

logger = logging.getLogger(__name__)

WORKERS = 32  # reconciles at once; each waits on one or two of the API threads (kube.API_THREADS)
RESYNC_TICKS = 60  # the resync (settings.resync_seconds) is spread over its period in this many steps
REFRESH_DELAY = 0.05  # waiting VideoJobs' places are rewritten at most this often
MAX_TTL_WAIT = 3600.0  # a far-off TTL is checked again at least this often
Place = tuple[int | None, int]  # (position, length) in the render queue


class Reconciler:
    def __init__(self, settings: OperatorSettings, kube: ClusterApi, cleaner: OutputCleaner, events: EventSink) -> None:
        self.settings, self.kube, self.cleaner, self.events = settings, kube, cleaner, events
        self.queue: WorkQueue[str] = WorkQueue()
        self.statuses = WrittenStatuses()
        self.admission = Admission(settings.max_concurrent_renders, self.statuses, self.refresh_waiting)
        self.board = ProgressBoard()
        self.world: World | None = None
        self._followers: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._refresh_pending = False
        self._kueue_jobs: dict[str, str] = {}  # renderer Job uid -> VideoJob uid, for Kueue's Workload events
        self.launcher = Launcher(settings, kube, self.admission, lambda: self.events)
        self.lectures = LectureChecks()

    # --- running ------------------------------------------------------------------------------

    def start(self, workers: int = WORKERS) -> None:
        for _ in range(workers):
            self._spawn(self._work())
        if self.settings.resync_seconds > 0:
            self._spawn(self._resync_forever())

    def bind(self, world: World) -> None:
        """The indexes, from the first handler call (kopf has filled them by then)."""
        if self.world is None:
            self.world = world

    def kick(self, uid: str) -> None:
        """Reconcile this VideoJob soon; many kicks before it starts make one reconcile."""
        if self.world is not None:
            self.queue.add(uid)

    def forget(self, uid: str) -> None:
        """The VideoJob is gone: drop everything kept about it."""
        self.board.forget(uid)
        self.statuses.forget(uid)
        for job_uid in [job for job, owner in self._kueue_jobs.items() if owner == uid]:
            del self._kueue_jobs[job_uid]
        self.admission.settle(uid)
        self.queue.forget(uid)
        self.launcher.forget(uid)
        self.lectures.forget(uid)
        self.refresh_waiting()

    def videojob_of_job(self, job_uid: str) -> str | None:
        """The VideoJob of a renderer Job that Kueue holds (seen by a reconcile before)."""
        return self._kueue_jobs.get(job_uid)

    def refresh_waiting(self) -> None:
        """Reconcile every waiting VideoJob soon (slots freed, places moved); at most once per REFRESH_DELAY."""
        if self._refresh_pending or self.world is None:
            return
        self._refresh_pending = True
        asyncio.get_running_loop().call_later(REFRESH_DELAY, self._kick_waiting)

    async def close(self) -> None:
        self.queue.shutdown()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        # A fresh context: nothing of the kopf handler that happened to cause this task leaks into it.
        task = asyncio.get_running_loop().create_task(coroutine, context=contextvars.Context())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _work(self) -> None:
        while (uid := await self.queue.get()) is not None:
            try:
                await self._reconcile_or_retry(uid)
            finally:
                self.queue.done(uid)

    async def _reconcile_or_retry(self, uid: str) -> None:
        logs.bind_videojob(uid, self.world)  # every line until the next reconcile names this VideoJob
        try:
            await self.reconcile(uid)
        except Exception as error:
            metrics.RECONCILES.labels("error").inc()
            attempt = self.queue.num_requeues(uid) + 1
            logger.warning(
                "reconciling VideoJob %s failed (attempt %d): %s",
                uid,
                attempt,
                error,
                exc_info=not isinstance(error, OperatorError) and attempt == 1,
            )
            base = retry_base(error)
            if base is not None:
                self.queue.add_rate_limited(uid, base)
        else:
            self.queue.forget(uid)
            metrics.RECONCILES.labels("ok").inc()

    async def _resync_forever(self) -> None:
        """Every VideoJob not yet over, once per settings.resync_seconds, a share of them at each of RESYNC_TICKS
        steps (cheap: an unchanged status is never written).

        Spread, so that 10,000 VideoJobs are not one burst of reconciles that the watch events of that
        moment wait behind (seconds of status lag, once a minute). Not the Succeeded or Failed ones:
        nothing periodic concerns them (a TTL has its own timer, armed again by any reconcile, the
        first after a restart too), and most VideoJobs of a long-lived cluster are over."""
        while True:
            world = self.world
            uids = [
                uid
                for uid, body in (world.all_videojobs() if world else ())
                if self.statuses.newest(body).get("phase") not in reasons.TERMINAL_PHASES
            ]
            share = max(1, math.ceil(len(uids) / RESYNC_TICKS))
            for start in range(0, RESYNC_TICKS * share, share):
                await asyncio.sleep(self.settings.resync_seconds / RESYNC_TICKS)
                for uid in uids[start : start + share]:
                    self.queue.add(uid, low_priority=True)  # only a look: watch events go first

    def _kick_waiting(self) -> None:
        self._refresh_pending = False
        for uid, body in self.world.all_videojobs() if self.world else ():
            if self.statuses.newest(body).get("phase") in (reasons.QUEUED, None, reasons.PENDING):
                self.queue.add(uid)

    # --- the reconcile ------------------------------------------------------------------------

    async def reconcile(self, uid: str) -> None:
        """Fetch; exit early (gone, being deleted, invalid, over and its Job gone); apply; write status; TTL."""
        assert self.world is not None, "bind() the indexes first"
        body = self.world.videojob(uid)
        if body is None:
            return
        if body["metadata"].get("deletionTimestamp"):
            await self._finalize(body)
            return
        old_status = self.statuses.newest(body)
        body = {**body, "status": old_status}
        now = datetime.now(UTC)
        spec = await self._valid_spec(body, now)
        if spec is None:
            return
        await self._keep_finalizer(body, spec)
        job = self.world.job(uid)
        if job is None and old_status.get("phase") in reasons.TERMINAL_PHASES:
            await self._expire_if_due(body, spec, old_status, now)  # the Job went after the end: status says all
            return
        if job is None and (refused := await self.lectures.refusal(body, spec)) is not None:  # as its renderer would
            await self._write_status(
                body, Observation(now=now, invalid_spec=refused.message, invalid_reason=refused.reason)
            )
            return
        job, place = await self._apply(body, spec, job)
        new_status = await self._write_status(body, self._observe(uid, spec, job, place, now))
        if new_status["phase"] in reasons.TERMINAL_PHASES:
            await self._expire_if_due(body, spec, new_status, now)

    async def _valid_spec(self, body: Mapping[str, Any], now: datetime) -> VideoJobSpec | None:
        """The parsed spec; None (and phase Failed with the reasons) when it does not parse."""
        try:
            return VideoJobSpec.model_validate(body.get("spec") or {})
        except ValidationError as error:
            problems = "; ".join(f"spec.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
            await self._write_status(body, Observation(now=now, invalid_spec=problems))
            return None

    async def _apply(
        self, body: Mapping[str, Any], spec: VideoJobSpec, job: Mapping[str, Any] | None
    ) -> tuple[Mapping[str, Any] | None, Place | None]:
        """Create, suspend or resume the renderer Job; the Job and, if it waits, its place in the queue."""
        uid, namespace = body["metadata"]["uid"], body["metadata"]["namespace"]
        if job is not None and not suspended(job):
            self.admission.settle(uid)  # the index shows what admission did
        if job is None:
            if spec.suspend:
                return None, None
            place = None if spec.queue_name else self._render_slot(uid)  # Kueue, when named, is the cap
            return (await self.launcher.start(body, spec), None) if place is None else (None, place)
        assert self.world is not None
        if shares_left_unjoined(job, self.world.job_pods(uid, job)):  # started before an upgrade: no video yet
            return await self.launcher.assemble_old_shares(body, job), None
        if finished(job):
            pods, started = self.world.job_pods(uid, job), attempts.first_start(self.world.all_jobs(uid))
            now = datetime.now(UTC)
            return await self.launcher.grow(body, spec, job, pods, started, now) or job, None
        if (evicted := attempts.scratch_eviction(self.world.job_pods(uid, job))) is not None:
            await self.launcher.end_after_eviction(body, job, evicted)  # then a bigger attempt, not the same size
        await self.launcher.ensure_configmap(body, spec, self.world.job_pods(uid, job))
        if spec.suspend and not suspended(job):
            await self.kube.set_job_suspend(namespace, job["metadata"]["name"], True)
            self.admission.settle(uid)
            self.refresh_waiting()
        elif not spec.suspend and suspended(job) and kueue.queue_of(job) is None:  # else Kueue resumes it
            place = self._render_slot(uid)
            if place is not None:
                return job, place
            await self.kube.set_job_suspend(namespace, job["metadata"]["name"], False)
            self.admission.admit(uid, asyncio.get_running_loop().time())
        return job, None

    def _observe(
        self, uid: str, spec: VideoJobSpec, job: Mapping[str, Any] | None, place: Place | None, now: datetime
    ) -> Observation:
        """What the status depends on: the Job, its Pods, the newest progress event and the place in the queue,
        and the earlier attempts (after an OOM kill or an eviction for scratch)."""
        assert self.world is not None
        pods = pods_by_age(self.world.job_pods(uid, job))
        newest_pod_uid = pods[-1]["metadata"].get("uid") if pods else None
        progress = self.board.latest(uid, newest_pod_uid)
        world = self.world
        fanned = fanout.view(job, lambda j: world.job_pods(uid, j), lambda pod: self.board.latest(uid, pod))
        if fanned is not None:  # a render shared by several Pods: every index's progress, added up
            pods, progress = pods_by_age(fanned.pods), fanned.progress
        position, length = place or (None, None)
        growths, deadline = self.launcher.growths, (spec.active_deadline_seconds, now)
        seen = attempts.review(world.all_jobs(uid), job, lambda j: world.job_pods(uid, j), growths, deadline)
        return Observation(
            now=now,
            job=job,
            pods=pods,
            progress=progress,
            queue_position=position,
            queue_length=length,
            attempt_history=seen.history,
            earlier_starts=seen.earlier_starts,
            last_attempt=seen.last_attempt,
            kueue=self._kueue_wait(uid, job),
            ends_logged=self.board.ends(uid),
        )

    def _kueue_wait(self, uid: str, job: Mapping[str, Any] | None) -> kueue.KueueWait | None:
        assert self.world is not None
        if job is not None and kueue.queue_of(job) and job["metadata"].get("uid"):
            self._kueue_jobs[job["metadata"]["uid"]] = uid
        return kueue.waiting(job, self.world.workload(job))

    def _render_slot(self, uid: str) -> Place | None:
        """None when the VideoJob may render now; else its place in the queue."""
        assert self.world is not None
        decision = self.admission.decide(self.world, asyncio.get_running_loop().time())
        return None if uid in decision.admitted else (decision.positions.get(uid), decision.length)

    async def _write_status(self, body: Mapping[str, Any], seen: Observation) -> dict[str, Any]:
        """Compute the status and write what changed; the new status."""
        old_status = body.get("status") or {}
        new_status = compute_status(body, seen)
        patch = status_patch(old_status, new_status)
        if patch:
            metadata = body["metadata"]
            response = await self.kube.patch_videojob_status(metadata["namespace"], metadata["name"], patch)
            self.statuses.remember(metadata["uid"], response)
            self._announce(body, old_status, new_status)
            metrics.observe_status_write(body, old_status, new_status, job=seen.job)
            if new_status.get("queuePosition") != old_status.get("queuePosition"):
                self.refresh_waiting()  # the ones behind this one moved too
        return new_status

    def _announce(self, body: Mapping[str, Any], old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        """Kubernetes Events for phase changes and failures, for `kubectl describe`."""
        failure = new.get("failure")
        if failure and failure != old.get("failure"):
            self.events(body, "Warning", failure["reason"], failure["message"])
        if new.get("phase") != old.get("phase"):
            metrics.PHASE_CHANGES.labels(new["phase"]).inc()
            if new["phase"] == reasons.PHASE_FAILED and failure:
                metrics.observe_failure(failure["reason"])
            kind = "Warning" if new["phase"] == reasons.PHASE_FAILED else "Normal"
            self.events(body, kind, new["phase"], new.get("stage", ""))
            if new["phase"] in reasons.TERMINAL_PHASES or new["phase"] == reasons.SUSPENDED:
                self.refresh_waiting()

    # --- finalizer and TTL --------------------------------------------------------------------

    async def _keep_finalizer(self, body: Mapping[str, Any], spec: VideoJobSpec) -> None:
        """The output-cleanup finalizer is there exactly when spec.output.retention is Delete."""
        metadata = body["metadata"]
        wanted = finalizers_for(metadata, spec.output.retention)
        if wanted is not None:
            await self.kube.set_videojob_finalizers(
                metadata["namespace"], metadata["name"], wanted, metadata["resourceVersion"]
            )

    async def _finalize(self, body: Mapping[str, Any]) -> None:
        """A deleted VideoJob with retention Delete: remove its outputs, then let it go."""
        metadata = body["metadata"]
        if FINALIZER in (metadata.get("finalizers") or []):
            spec = VideoJobSpec.model_validate(body.get("spec") or {})
            bucket = spec.output.bucket or self.settings.s3_bucket
            prefix = output_prefix(metadata["namespace"], metadata["name"], metadata["uid"], spec)
            try:
                count = await self.cleaner.delete_prefix(bucket, prefix)
            except CleanupNotConfigured as error:
                self.events(body, "Warning", "OutputCleanupBlocked", str(error))
                raise
            self.events(body, "Normal", "OutputDeleted", f"Deleted {count} object(s) under s3://{bucket}/{prefix}")
            await self.kube.set_videojob_finalizers(
                metadata["namespace"], metadata["name"], without_finalizer(metadata), metadata["resourceVersion"]
            )
        self.refresh_waiting()

    async def _expire_if_due(
        self, body: Mapping[str, Any], spec: VideoJobSpec, status: Mapping[str, Any], now: datetime
    ) -> None:
        """Delete a finished VideoJob once spec.ttlSecondsAfterFinished has passed; until then, come back."""
        if spec.ttl_seconds_after_finished is None or not status.get("completionTime"):
            return
        finished_at = datetime.fromisoformat(status["completionTime"].replace("Z", "+00:00"))
        due = finished_at + timedelta(seconds=spec.ttl_seconds_after_finished)
        metadata = body["metadata"]
        if now >= due:
            await self.kube.delete_videojob(metadata["namespace"], metadata["name"], metadata["uid"])
        else:
            self.queue.add_after(metadata["uid"], min((due - now).total_seconds(), MAX_TTL_WAIT) + 0.1)

    # --- progress -----------------------------------------------------------------------------

    def watch_pod(self, videojob_uid: str, pod: Mapping[str, Any]) -> None:
        """Follow a running renderer's log for progress events, once per Pod."""
        pod_uid = pod["metadata"]["uid"]
        running = any(
            "running" in (s.get("state") or {}) for s in (pod.get("status") or {}).get("containerStatuses") or []
        )
        if running and pod_uid not in self._followers:
            self._followers[pod_uid] = self._spawn(self._follow(videojob_uid, pod))

    async def _follow(self, videojob_uid: str, pod: Mapping[str, Any]) -> None:
        metadata = pod["metadata"]

        def on_event(event: ProgressEvent) -> bool:
            metrics.observe_progress_event(videojob_uid, metadata["uid"], event)
            if self.board.record(videojob_uid, metadata["uid"], event):
                self.kick(videojob_uid)
                return True
            return False

        def on_end(end: Result | ShareDone) -> None:
            if self.board.record_end(videojob_uid, metadata["uid"], end):
                self.kick(videojob_uid)  # the render may be over: no need to wait for the kubelet to say so

        def lines() -> AsyncIterable[str]:
            return self.kube.follow_log(
                metadata["namespace"], metadata["name"], RENDERER_CONTAINER, self.settings.progress_log_tail_lines
            )

        try:
            await follow_until_exit(lines, on_event, on_end)  # again after a kubelet or API server restart
        except Exception as error:
            logger.debug("stopped following %s/%s: %s", metadata["namespace"], metadata["name"], error)
        finally:
            self._followers.pop(metadata["uid"], None)
