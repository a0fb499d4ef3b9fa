"""Creating the renderer Jobs of a VideoJob: its first attempt, the next one after an OOM kill or an
eviction for scratch space (with what is left of the deadline), and the spec ConfigMap they all mount;
and ending an attempt whose Pod was evicted for scratch, so that no Pod is retried at that size.

The reconciler decides *when* (from the Jobs and Pods it sees); this module builds the Job
with :mod:`.builders`, creates it if absent (a restarted operator creates nothing twice),
holds its render slot, and posts the Event that says so.

A child just created is *expected* (:class:`Expectations`, as controller-runtime's
controllers keep them): until the watch shows it, or ``EXPECTATION_SECONDS`` pass, a
reconcile of the same VideoJob takes it as there and does not send the create again. In
a 2,000-VideoJob burst under load, 0.55 % of the Job and ConfigMap creates answered 409
AlreadyExists: a second reconcile (the VideoJob's own status write seen before our answer
to it, a resync) came before the Job's watch event.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from videojob.spec import VideoJobSpec

from . import attempts, metrics, reasons
from .admission import Admission
from .builders import build_assembly_job, build_attempt_job, build_spec_configmap
from .events import EventSink
from .kube import ClusterApi
from .settings import OperatorSettings
from .slots import lowered_note

# A child created is taken as there for this long at most without the watch showing it: then a reconcile that
# still does not see it creates it again (it was deleted meanwhile; a 409 only says it is there after all).
EXPECTATION_SECONDS = 60.0
# A Pod waiting this long without starting may be waiting for a spec ConfigMap a crash left uncreated. Sooner
# it is only starting (and a restarted operator finds thousands of those, or Jobs whose Pods the Job
# controller has not made yet: a create for each, answered 409, was most of its first pass at 10,000).
CONFIGMAP_WAIT_SECONDS = 60.0


class Expectations:
    """Children created (``Kind/namespace/name``) that the watches may not show yet, each for ``seconds`` at most."""

    def __init__(self, seconds: float = EXPECTATION_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.clock = seconds, clock
        self._until: OrderedDict[str, float] = OrderedDict()  # oldest first: every entry lives as long

    def expect(self, key: str) -> None:
        self._until[key] = self.clock() + self.seconds
        self._until.move_to_end(key)

    def pending(self, key: str) -> bool:
        now = self.clock()
        while self._until and next(iter(self._until.values())) <= now:
            self._until.popitem(last=False)
        return key in self._until

    def __len__(self) -> int:
        return len(self._until)


def child_key(manifest: Mapping[str, Any]) -> str:
    metadata = manifest["metadata"]
    return f"{manifest['kind']}/{metadata['namespace']}/{metadata['name']}"


def waiting_long(pods: Sequence[Mapping[str, Any]], now: datetime, seconds: float = CONFIGMAP_WAIT_SECONDS) -> bool:
    """Whether one of these Pods was created over ``seconds`` ago (and none started, see containers_started)."""
    for pod in pods:
        created = (pod.get("metadata") or {}).get("creationTimestamp")
        if created and (now - datetime.fromisoformat(created.replace("Z", "+00:00"))).total_seconds() > seconds:
            return True
    return False


def containers_started(pods: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a container of these Pods ever started: the kubelet had mounted every volume, the ConfigMap too."""
    for pod in pods:
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            if {"running", "terminated"} & (
                (status.get("state") or {}).keys() | (status.get("lastState") or {}).keys()
            ):
                return True
    return False


class Launcher:
    def __init__(
        self,
        settings: OperatorSettings,
        kube: ClusterApi,
        admission: Admission,
        events: Callable[[], EventSink],
    ) -> None:
        # ``events`` is read at each use: a test may swap the reconciler's sink after construction.
        self.settings, self.kube, self.admission, self._events = settings, kube, admission, events
        self.growths = attempts.Growths(
            memory=attempts.Growth(settings.oom_memory_factor, settings.oom_memory_ceiling),
            scratch=attempts.Growth(settings.scratch_factor, settings.scratch_ceiling),
        )
        self._configmap_ensured: set[str] = set()
        self.expectations = Expectations()
        self._ended: dict[str, str] = {}  # VideoJob uid -> the Job this operator ended after an eviction

    def forget(self, uid: str) -> None:
        self._configmap_ensured.discard(uid)
        self._ended.pop(uid, None)

    async def start(self, body: Mapping[str, Any], spec: VideoJobSpec) -> dict[str, Any]:
        """The first attempt's Job and the spec ConfigMap, created together."""
        uid = body["metadata"]["uid"]
        admitted = asyncio.get_running_loop().time()
        self.admission.admit(uid, admitted)
        job = build_attempt_job(body, self.settings)
        # Both at once: the kubelet waits for a missing ConfigMap volume, so the order does not matter.
        _, created = await asyncio.gather(self._create(build_spec_configmap(body, spec)), self._create(job))
        self._configmap_ensured.add(uid)
        if created:
            self._events()(body, "Normal", "JobCreated", f"Created renderer Job {job['metadata']['name']}")
            if (lowered := lowered_note(spec, self.settings.max_concurrent_renders)) is not None:
                self._events()(body, "Normal", "ParallelismLowered", lowered)
            metrics.JOB_CREATION.observe(asyncio.get_running_loop().time() - admitted)
        return job

    async def _create(self, manifest: Mapping[str, Any]) -> bool:
        """Create the child unless it is expected already; whether this call created it."""
        key = child_key(manifest)
        if self.expectations.pending(key):
            return False
        created = await self.kube.create_if_absent(manifest)
        self.expectations.expect(key)  # made now, or there already (409): the watch shows it soon either way
        return created

    async def ensure_configmap(
        self, body: Mapping[str, Any], spec: VideoJobSpec, pods: Sequence[Mapping[str, Any]] = ()
    ) -> None:
        """The ConfigMap is created alongside the Job; after a crash between the two, make it now (once).

        Not when a container of the Job's Pods has started: it had its ConfigMap (so a restarted operator
        sends no create per VideoJob: at 10,000 running, the starting commit sent 10,000, each a 409).
        Nor before a Pod has waited CONFIGMAP_WAIT_SECONDS: a later reconcile (the resync) looks again.
        """
        uid = body["metadata"]["uid"]
        if uid in self._configmap_ensured:
            return
        if containers_started(pods):
            self._configmap_ensured.add(uid)
        elif waiting_long(pods, datetime.now(UTC)):
            await self._create(build_spec_configmap(body, spec))
            self._configmap_ensured.add(uid)

    async def assemble_old_shares(self, body: Mapping[str, Any], shares: Mapping[str, Any]) -> dict[str, Any]:
        """The assembly Job of a shares Job an earlier operator version started (status.shares_left_unjoined),
        for the same attempt with the same memory; created if absent."""
        pods = int((shares.get("spec") or {}).get("completions") or 1)
        attempt, memory = attempts.attempt_number(shares), attempts.memory_limit(shares)
        scratch = attempts.scratch_limit_of(shares)
        job = build_assembly_job(body, self.settings, pods=pods, attempt=attempt, memory=memory, scratch=scratch)
        if await self._create(job):
            self._events()(
                body,
                "Normal",
                "JobCreated",
                f"Created assembly Job {job['metadata']['name']}: {shares['metadata']['name']} was started by an "
                "earlier operator version, whose renderer leaves the join of its shares to a Job of its own",
            )
        return job

    async def end_after_eviction(
        self, body: Mapping[str, Any], job: Mapping[str, Any], evicted: Mapping[str, Any]
    ) -> None:
        """End attempt ``job`` now that the kubelet evicted its Pod ``evicted`` for scratch space: its
        backoffLimit goes to 0, so the Job controller fails the Job (BackoffLimitExceeded, the failure
        counted) instead of starting another Pod at the same size, as a podFailurePolicy FailJob does for an
        OOM kill. Then :meth:`grow` starts the bigger attempt (or the status says why none may start)."""
        uid, name = body["metadata"]["uid"], job["metadata"]["name"]
        if self._ended.get(uid) == name:
            return
        await self.kube.set_job_backoff_limit(job["metadata"]["namespace"], name, 0)
        self._ended[uid] = name
        self._events()(
            body,
            "Warning",
            reasons.SCRATCH_FULL,
            f"The kubelet evicted Pod {evicted['metadata'].get('name', '?')}: its scratch volume passed its "
            f"sizeLimit {attempts.scratch_size(job, [evicted])}; attempt {attempts.attempt_number(job)} "
            f"({name}) ends here, no Pod is retried at that size",
        )

    async def grow(
        self,
        body: Mapping[str, Any],
        spec: VideoJobSpec,
        job: Mapping[str, Any],
        pods: Sequence[Mapping[str, Any]],
        started: datetime | None,
        now: datetime,
    ) -> dict[str, Any] | None:
        """Attempt N+1 with more memory when attempt N (``job``) was OOMKilled, or more scratch when it was
        evicted for it, given what is left of spec.activeDeadlineSeconds since the first attempt ``started``;
        None for any other end, or when the deadline is spent (the status says so: attempts.deadline_spent)."""
        uid = body["metadata"]["uid"]
        step = attempts.next_attempt(job, pods, self.growths)
        left = attempts.seconds_left(spec.active_deadline_seconds, started, now)
        if step is None or left <= 0:
            return None
        bigger = build_attempt_job(
            body,
            self.settings,
            attempt=step.attempt,
            memory=step.memory,
            scratch=step.scratch,
            deadline_seconds=left,
        )
        self.admission.admit(uid, asyncio.get_running_loop().time())  # the slot the ended attempt held
        if await self._create(bigger):
            metrics.observe_attempt_retry(step.reason, (body.get("spec") or {}).get("quality"))
            if step.grew == "scratch":
                self._events()(
                    body,
                    "Warning",
                    "ScratchRaised",
                    f"Attempt {step.attempt - 1} filled its scratch volume at {step.after}; "
                    f"attempt {step.attempt} ({bigger['metadata']['name']}) starts with {step.scratch} of scratch",
                )
            else:
                self._events()(
                    body,
                    "Warning",
                    "MemoryRaised",
                    f"Attempt {step.attempt - 1} ran out of memory at {step.after}; "
                    f"attempt {step.attempt} ({bigger['metadata']['name']}) starts with {step.memory}",
                )
        return bigger
