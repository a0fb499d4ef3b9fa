"""Attempts of one VideoJob: after an OOM kill, the next renderer Job gets more memory.

Each attempt is its own batch/v1 Job, named and labelled with its number (see
:func:`.builders.job_name`); inside one attempt the Job controller owns the ordinary
retries (``backoffLimit``). Only a renderer killed for memory (container reason
``OOMKilled``) starts attempt N+1, with the memory limit multiplied by
``VIDEOJOB_OOM_MEMORY_FACTOR`` and capped at ``VIDEOJOB_OOM_MEMORY_CEILING``; the scenes
the killed attempt finished are in the S3 scene cache, so the next one draws only the rest.
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
from .builders import ATTEMPT_LABEL, RENDERER_CONTAINER
from .failures import Diagnosis, job_failed, job_succeeded, pods_by_age, terminated_state

MEBIBYTE = 2**20
CEILING_VARIABLE = "VIDEOJOB_OOM_MEMORY_CEILING"
FACTOR_VARIABLE = "VIDEOJOB_OOM_MEMORY_FACTOR"


@dataclass(frozen=True)
class MemoryGrowth:
    """The two operator settings: how much more memory each attempt gets, and the most it may get."""

    factor: float
    ceiling: str

    @property
    def ceiling_bytes(self) -> int:
        return quantity_bytes(self.ceiling)


@dataclass(frozen=True)
class NextAttempt:
    attempt: int
    memory: str  # the renderer's new memory limit
    after: str  # the limit the previous attempt was killed at


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


def deadline_spent(job: Mapping[str, Any], deadline_seconds: int, started: datetime | None, now: datetime) -> Diagnosis:
    """Why attempt N+1 does not start after attempt N (``job``) was OOMKilled: the deadline is spent."""
    used = round((now - started).total_seconds()) if started is not None else deadline_seconds
    return Diagnosis(
        reasons.DEADLINE_EXCEEDED,
        f"The renderer ran out of memory (OOMKilled) on attempt {attempt_number(job)} at {memory_limit(job) or '?'}, "
        f"and the attempts have used {used} s of spec.activeDeadlineSeconds ({deadline_seconds} s), so no bigger "
        "attempt can start. Raise spec.activeDeadlineSeconds or spec.resources.limits.memory and create the "
        "VideoJob again.",
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


def killed_for_memory(job: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> bool:
    """The Job failed and its last finished Pod's renderer was OOMKilled."""
    if job_failed(job) is None:
        return False
    finished = [pod for pod in pods_by_age(pods) if terminated_state(pod)]
    return bool(finished) and (terminated_state(finished[-1]) or {}).get("reason") == reasons.OOM_KILLED


def grown_memory(current: int, growth: MemoryGrowth) -> int | None:
    """The next attempt's limit in bytes, or None when ``current`` is already at the ceiling."""
    if current >= growth.ceiling_bytes:
        return None
    return min(math.ceil(current * growth.factor / MEBIBYTE) * MEBIBYTE, growth.ceiling_bytes)


def next_attempt(job: Mapping[str, Any], pods: Sequence[Mapping[str, Any]], growth: MemoryGrowth) -> NextAttempt | None:
    """Attempt N+1 when attempt N (``job``) was killed for memory and may grow; None otherwise."""
    current = memory_limit(job)
    attempt = attempt_number(job)
    if current is None or attempt >= ATTEMPTS_MAX or not killed_for_memory(job, pods):
        return None
    grown = grown_memory(quantity_bytes(current), growth)
    if grown is None:
        return None
    return NextAttempt(attempt + 1, _tidy(grown, growth), current)


def _tidy(size: int, growth: MemoryGrowth) -> str:
    return growth.ceiling if size == growth.ceiling_bytes else mebibytes(size)


def out_of_memory(
    job: Mapping[str, Any],
    pods: Sequence[Mapping[str, Any]],
    earlier: Sequence[Mapping[str, Any]],
    growth: MemoryGrowth,
) -> Diagnosis:
    """Why ``job``, OOMKilled, is the last attempt: the ceiling is reached, or the attempts are used up.

    ``earlier`` is status.attemptHistory (see :func:`history`), for the memory each attempt had.
    """
    current = memory_limit(job) or "?"
    steps = " -> ".join(str(entry.get("memory", "?")) for entry in earlier) or current
    attempt = attempt_number(job)
    could_grow = current != "?" and grown_memory(quantity_bytes(current), growth) is not None
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
    finished = [pod for pod in pods_by_age(pods) if terminated_state(pod)]
    last = terminated_state(finished[-1]) if finished else None
    return Diagnosis(
        reasons.OOM_KILLED,
        f"The renderer ran out of memory (OOMKilled) {why}.",
        exit_code=last.get("exitCode") if last else None,
    )


def pod_starts(job: Mapping[str, Any]) -> int:
    """Renderer Pods the Job controller started for this attempt."""
    status = job.get("status") or {}
    return sum(int(status.get(key) or 0) for key in ("failed", "succeeded", "active"))


def outcome(job: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> str:
    """One word for an attempt in status.attemptHistory."""
    if job_succeeded(job) is not None:
        return "Succeeded"
    if killed_for_memory(job, pods):
        return reasons.OOM_KILLED
    if job_failed(job) is not None:
        return "Failed"
    if ((job.get("status") or {}).get("active") or 0) > 0:
        return "Running"
    return "Pending"


def history(
    jobs: Iterable[Mapping[str, Any]], pods_of: Mapping[str, Sequence[Mapping[str, Any]]]
) -> list[dict[str, Any]]:
    """status.attemptHistory: each attempt's number, Job, memory limit and outcome, oldest first.

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
        entry["outcome"] = outcome(job, pods_of.get(name) or ())
        entries.append(entry)
    return entries


@dataclass(frozen=True)
class Review:
    """What the status needs to know of the attempts (see :class:`.status.Observation`)."""

    history: list[dict[str, Any]]  # empty while there is a single attempt: its Job says it all
    earlier_starts: int
    last_attempt: Diagnosis | None  # OOMKilled and no bigger attempt may start: why (the ceiling, or the deadline)


def review(
    jobs: Iterable[Mapping[str, Any]],
    newest: Mapping[str, Any] | None,
    pods_of: Callable[[Mapping[str, Any]], Sequence[Mapping[str, Any]]],
    growth: MemoryGrowth,
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
    if killed_for_memory(newest, pods):
        started = first_start(every)
        if next_attempt(newest, pods, growth) is None:
            last_word = out_of_memory(newest, pods, entries, growth)
        elif deadline is not None and seconds_left(deadline[0], started, deadline[1]) <= 0:
            last_word = deadline_spent(newest, deadline[0], started, deadline[1])
    return Review(entries if len(entries) > 1 else [], sum(pod_starts(job) for job in earlier), last_word)
