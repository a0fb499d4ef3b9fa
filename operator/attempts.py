"""Attempts of one VideoJob: after an OOM kill or a full scratch volume, the next renderer Job gets more room.

Each attempt is its own batch/v1 Job, named and labelled with its number (see
:func:`.builders.job_name`); inside one attempt the Job controller owns the ordinary
retries (``backoffLimit``). Two ends start attempt N+1 instead: a renderer killed for memory
(container reason ``OOMKilled``) comes back with the memory limit multiplied by
``VIDEOJOB_OOM_MEMORY_FACTOR`` and capped at ``VIDEOJOB_OOM_MEMORY_CEILING``; one the kubelet
evicted because its scratch emptyDir passed its sizeLimit comes back with the sizeLimit multiplied by
``VIDEOJOB_SCRATCH_FACTOR``, capped at ``VIDEOJOB_SCRATCH_CEILING`` (the attempt's Job is ended at the
eviction, see :func:`scratch_eviction`, so that no Pod is retried at the same size). The other size
is kept. The scenes the ended attempt finished are in the S3 scene cache, so the next one draws only the rest.
Every attempt shares one deadline, spec.activeDeadlineSeconds from the first attempt's start:
attempt N+1's Job gets what is left of it (:func:`seconds_left`), and none starts once it is spent.

Everything here is pure and reads only the Jobs and Pods that exist, so an operator that
restarts between two attempts makes the same decision again and creates nothing twice.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kubernetes.utils.quantity import parse_quantity

from videojob.limits import ATTEMPTS_MAX

from . import reasons
from .builders import ATTEMPT_LABEL, RENDERER_CONTAINER, SCRATCH_VOLUME
from .failures import (
    Diagnosis,
    ending_pod,
    evicted_for_scratch,
    job_failed,
    job_succeeded,
    pods_by_age,
    ran_out_of_memory,
    scratch_limit,
    terminated_state,
)

MEBIBYTE = 2**20
CEILING_VARIABLE = "VIDEOJOB_OOM_MEMORY_CEILING"
FACTOR_VARIABLE = "VIDEOJOB_OOM_MEMORY_FACTOR"
SCRATCH_CEILING_VARIABLE = "VIDEOJOB_SCRATCH_CEILING"
SCRATCH_FACTOR_VARIABLE = "VIDEOJOB_SCRATCH_FACTOR"
# The ends after which an attempt starts again with more room (the reason the ended attempt's outcome names).
RETRY_REASONS = (reasons.OOM_KILLED, reasons.SCRATCH_FULL)


@dataclass(frozen=True)
class Growth:
    """Two operator settings for one size: how much more each attempt gets, and the most it may get."""

    factor: float
    ceiling: str

    @property
    def ceiling_bytes(self) -> int:
        return quantity_bytes(self.ceiling)


@dataclass(frozen=True)
class Growths:
    """How each attempt grows: its memory after an OOM kill, its scratch sizeLimit after an eviction."""

    memory: Growth
    scratch: Growth


@dataclass(frozen=True)
class NextAttempt:
    attempt: int
    memory: str | None  # the renderer's memory limit (grown after an OOM kill, else the previous attempt's)
    after: str  # the size the previous attempt ran out of
    scratch: str | None = None  # the scratch sizeLimit (grown after an eviction, else the previous attempt's)
    grew: str = "memory"  # which size grew: "memory" or "scratch"

    @property
    def reason(self) -> str:
        """Why the previous attempt ended: what it ran out of (one of :data:`RETRY_REASONS`)."""
        return reasons.SCRATCH_FULL if self.grew == "scratch" else reasons.OOM_KILLED


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def first_start(jobs: Iterable[Mapping[str, Any]]) -> datetime | None:
    """When the first attempt started (its Job's startTime, else its creation): where the deadline counts from."""
    moments = [
        (job.get("status") or {}).get("startTime") or job["metadata"].get("creationTimestamp")
        for job in by_attempt(jobs)[:1]
    ]
    return _moment(moments[0]) if moments and moments[0] else None


def seconds_left(deadline_seconds: int, started: datetime | None, now: datetime) -> int:
    """What is left of spec.activeDeadlineSeconds for the next attempt (whole seconds, 0 when spent)."""
    if started is None:
        return deadline_seconds
    return max(0, math.floor(deadline_seconds - (now - started).total_seconds()))


def deadline_spent(
    job: Mapping[str, Any],
    deadline_seconds: int,
    started: datetime | None,
    now: datetime,
    pods: Sequence[Mapping[str, Any]] = (),
) -> Diagnosis:
    """Why attempt N+1 does not start after attempt N (``job``) ran out of room: the deadline is spent."""
    used = round((now - started).total_seconds()) if started is not None else deadline_seconds
    if ended_by(job, pods) == reasons.SCRATCH_FULL:
        what = f"filled its scratch volume (ScratchFull) on attempt {attempt_number(job)} at {scratch_size(job, pods)}"
    else:
        what = f"ran out of memory (OOMKilled) on attempt {attempt_number(job)} at {memory_limit(job) or '?'}"
    return Diagnosis(
        reasons.DEADLINE_EXCEEDED,
        f"The renderer {what}, "
        f"and the attempts have used {used} s of spec.activeDeadlineSeconds ({deadline_seconds} s), so no bigger "
        "attempt can start. Raise spec.activeDeadlineSeconds (or, for memory, spec.resources.limits.memory) and "
        "create the VideoJob again.",
    )


def quantity_bytes(quantity: str) -> int:
    return int(parse_quantity(quantity))


def mebibytes(size: int) -> str:
    """A byte count as a memory quantity, rounded up to whole MiB (``1536Mi``)."""
    return f"{math.ceil(size / MEBIBYTE)}Mi"


def attempt_number(job: Mapping[str, Any]) -> int:
    try:
        return int((job["metadata"].get("labels") or {}).get(ATTEMPT_LABEL) or 1)
    except ValueError:
        return 1


def by_attempt(jobs: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(jobs, key=attempt_number)


def memory_limit(job: Mapping[str, Any]) -> str | None:
    """The renderer container's memory limit in the Job's Pod template."""
    containers = (((job.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
    for container in containers:
        if container.get("name") == RENDERER_CONTAINER:
            return ((container.get("resources") or {}).get("limits") or {}).get("memory")
    return None


def scratch_limit_of(job: Mapping[str, Any]) -> str | None:
    """The sizeLimit of the renderer's scratch emptyDir in the Job's Pod template."""
    volumes = (((job.get("spec") or {}).get("template") or {}).get("spec") or {}).get("volumes") or []
    for volume in volumes:
        if volume.get("name") == SCRATCH_VOLUME:
            return (volume.get("emptyDir") or {}).get("sizeLimit")
    return None


def scratch_eviction(pods: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The newest Pod the kubelet evicted for passing its scratch sizeLimit, if any.

    The Job controller counts such a Pod as an ordinary failure and would start another at the same
    size (see :func:`.failures.evicted_for_scratch`), so the operator ends the attempt's Job when it sees one.
    """
    return next((pod for pod in reversed(pods_by_age(pods)) if evicted_for_scratch(pod)), None)


def scratch_size(job: Mapping[str, Any], pods: Sequence[Mapping[str, Any]] = ()) -> str:
    """The scratch sizeLimit an attempt had: its Job's, else what the kubelet's eviction message names."""
    evicted = scratch_eviction(pods)
    return scratch_limit_of(job) or (scratch_limit(evicted) if evicted else None) or "?"


def ended_by(job: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> str | None:
    """OOMKilled or ScratchFull when the Job failed for want of that room (a bigger attempt may follow).

    What the Pod whose end failed the Job ran out of (:func:`.failures.ending_pod`): in a fan-out, the
    other indexes' Pods, stopped by the Job controller or done with their shares, exit after it."""
    if job_failed(job) is None or (pod := ending_pod(job, pods)) is None:
        return None
    if ran_out_of_memory(pod):
        return reasons.OOM_KILLED
    if evicted_for_scratch(pod):
        return reasons.SCRATCH_FULL
    return None


def grown_size(current: int, growth: Growth) -> int | None:
    """The next attempt's size in bytes (whole MiB), or None when ``current`` is already at the ceiling."""
    if current >= growth.ceiling_bytes:
        return None
    return min(math.ceil(current * growth.factor / MEBIBYTE) * MEBIBYTE, growth.ceiling_bytes)


def next_attempt(job: Mapping[str, Any], pods: Sequence[Mapping[str, Any]], growths: Growths) -> NextAttempt | None:
    """Attempt N+1 when attempt N (``job``) was killed for memory or evicted for scratch and that size may
    grow; None otherwise. The size that did not run out stays as attempt N had it."""
    cause = ended_by(job, pods)
    memory, scratch = memory_limit(job), scratch_limit_of(job)
    if cause is None or attempt_number(job) >= ATTEMPTS_MAX:
        return None
    if cause == reasons.OOM_KILLED:
        if memory is None or (grown := grown_size(quantity_bytes(memory), growths.memory)) is None:
            return None
        return NextAttempt(attempt_number(job) + 1, _tidy(grown, growths.memory), memory, scratch, "memory")
    enforced = scratch_size(job, pods)
    if enforced == "?" or (grown := grown_size(quantity_bytes(enforced), growths.scratch)) is None:
        return None
    return NextAttempt(attempt_number(job) + 1, memory, enforced, _tidy(grown, growths.scratch), "scratch")


def _tidy(size: int, growth: Growth) -> str:
    return growth.ceiling if size == growth.ceiling_bytes else mebibytes(size)


def out_of_memory(
    job: Mapping[str, Any],
    pods: Sequence[Mapping[str, Any]],
    earlier: Sequence[Mapping[str, Any]],
    growth: Growth,
) -> Diagnosis:
    """Why ``job``, OOMKilled, is the last attempt: the ceiling is reached, or the attempts are used up.

    ``earlier`` is status.attemptHistory (see :func:`history`), for the memory each attempt had.
    """
    current = memory_limit(job) or "?"
    steps = " -> ".join(str(entry.get("memory", "?")) for entry in earlier) or current
    attempt = attempt_number(job)
    could_grow = current != "?" and grown_size(quantity_bytes(current), growth) is not None
    if could_grow:
        why = (
            f"on attempt {attempt}, the most a VideoJob makes (memory {steps}). Raise {FACTOR_VARIABLE} "
            f"(now {growth.factor}) so that each attempt grows more, or set spec.resources.limits.memory higher"
        )
    else:
        why = (
            f"at {current}, the operator's ceiling {CEILING_VARIABLE}={growth.ceiling}, on attempt {attempt} "
            f"(memory {steps}): this render needs more than the ceiling. Raise {CEILING_VARIABLE} on the operator "
            "(a node must have that much memory to spare), or lower quality or shorten the video"
        )
    killed = ending_pod(job, pods)
    last = terminated_state(killed) if killed else None
    return Diagnosis(
        reasons.OOM_KILLED,
        f"The renderer ran out of memory (OOMKilled) {why}.",
        exit_code=last.get("exitCode") if last else None,
    )


def out_of_scratch(
    job: Mapping[str, Any],
    pods: Sequence[Mapping[str, Any]],
    earlier: Sequence[Mapping[str, Any]],
    growth: Growth,
) -> Diagnosis:
    """Why ``job``, evicted for its scratch volume, is the last attempt: the ceiling, or the attempts used up."""
    enforced = scratch_size(job, pods)
    steps = " -> ".join(str(entry.get("scratch", "?")) for entry in earlier) or enforced
    attempt = attempt_number(job)
    if enforced != "?" and grown_size(quantity_bytes(enforced), growth) is not None:
        why = (
            f"on attempt {attempt}, the most a VideoJob makes (scratch {steps}). Raise {SCRATCH_FACTOR_VARIABLE} "
            f"(now {growth.factor}) on the operator so that each attempt grows more"
        )
    else:
        why = (
            f"at the operator's ceiling {SCRATCH_CEILING_VARIABLE}={growth.ceiling}, on attempt {attempt} "
            f"(scratch {steps}): this render needs more than the ceiling. Raise {SCRATCH_CEILING_VARIABLE} on the "
            "operator (chart: operator.scratchCeiling; a node must have that much disk to spare)"
        )
    evicted = scratch_eviction(pods)
    terminated = terminated_state(evicted) if evicted else None
    return Diagnosis(
        reasons.SCRATCH_FULL,
        f"The renderer ran out of scratch space: it wrote more than the {enforced} sizeLimit of its "
        f"{SCRATCH_VOLUME} volume (audio, scene clips and the video while it is made) and the kubelet evicted it, "
        f"{why}; or make the video shorter (spec.durationSeconds, fewer scenes) or a lower quality, and create "
        "the VideoJob again.",
        exit_code=terminated.get("exitCode") if terminated else None,
    )


def pod_starts(job: Mapping[str, Any]) -> int:
    """Renderer Pods the Job controller started for this attempt."""
    status = job.get("status") or {}
    return sum(int(status.get(key) or 0) for key in ("failed", "succeeded", "active"))


def outcome(job: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> str:
    """One word for an attempt in status.attemptHistory."""
    if job_succeeded(job) is not None:
        return "Succeeded"
    if (cause := ended_by(job, pods)) is not None:
        return cause
    if job_failed(job) is not None:
        return "Failed"
    if ((job.get("status") or {}).get("active") or 0) > 0:
        return "Running"
    return "Pending"


def history(
    jobs: Iterable[Mapping[str, Any]], pods_of: Mapping[str, Sequence[Mapping[str, Any]]]
) -> list[dict[str, Any]]:
    """status.attemptHistory: each attempt's number, Job, memory limit, scratch size and outcome, oldest first.

    One entry per attempt: of two Jobs with one number (an assembly Job an earlier version made
    beside its shares Job) the first by name stands for the attempt."""
    one_each: dict[int, Mapping[str, Any]] = {}
    for job in sorted(jobs, key=lambda job: job["metadata"]["name"]):
        one_each.setdefault(attempt_number(job), job)
    entries = []
    for job in by_attempt(one_each.values())[-ATTEMPTS_MAX:]:
        name = job["metadata"]["name"]
        entry: dict[str, Any] = {"attempt": attempt_number(job), "jobName": name}
        if (memory := memory_limit(job)) is not None:
            entry["memory"] = memory
        if (scratch := scratch_limit_of(job)) is not None:
            entry["scratch"] = scratch
        entry["outcome"] = outcome(job, pods_of.get(name) or ())
        entries.append(entry)
    return entries


@dataclass(frozen=True)
class Review:
    """What the status needs to know of the attempts (see :class:`.status.Observation`)."""

    history: list[dict[str, Any]]  # empty while there is a single attempt: its Job says it all
    earlier_starts: int
    last_attempt: Diagnosis | None  # out of memory or scratch and no bigger attempt may start: why (ceiling, deadline)


def review(
    jobs: Iterable[Mapping[str, Any]],
    newest: Mapping[str, Any] | None,
    pods_of: Callable[[Mapping[str, Any]], Sequence[Mapping[str, Any]]],
    growths: Growths,
    deadline: tuple[int, datetime] | None = None,
) -> Review:
    """The attempts of one VideoJob: ``jobs`` as the index has them, ``newest`` as the reconcile just made it;
    ``deadline``: spec.activeDeadlineSeconds and now, for whether a bigger attempt may still start."""
    if newest is None:
        return Review([], 0, None)
    name = newest["metadata"]["name"]
    earlier = [job for job in by_attempt(jobs) if job["metadata"]["name"] != name]
    every = [*earlier, newest]
    entries = history(every, {job["metadata"]["name"]: pods_of(job) for job in every})
    pods = pods_of(newest)
    last_word = None
    if (cause := ended_by(newest, pods)) is not None:
        started = first_start(every)
        if next_attempt(newest, pods, growths) is not None:
            if deadline is not None and seconds_left(deadline[0], started, deadline[1]) <= 0:
                last_word = deadline_spent(newest, deadline[0], started, deadline[1], pods)
        elif cause == reasons.OOM_KILLED:
            last_word = out_of_memory(newest, pods, entries, growths.memory)
        else:
            last_word = out_of_scratch(newest, pods, entries, growths.scratch)
    return Review(entries if len(entries) > 1 else [], sum(pod_starts(job) for job in earlier), last_word)
