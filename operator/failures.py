"""Reading renderer Job and Pod status: what state the render is in, and why it failed.

Pure functions over the dicts the API returns. Every failure comes out as a reason
(CamelCase, see reasons.py) and a message that tells the user what to change.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from videojob.contract import EXIT_BAD_INPUT, Failure, FailureReason, Result, parse_termination_message

from . import reasons
from .builders import RENDERER_CONTAINER, SCRATCH_VOLUME, SIGKILL_EXIT_CODE
from .fanout import completion_index

# Said after the renderer's message on bad input (and by .lecture_check, which refuses a lecture before any Job).
BAD_INPUT_ADVICE = "Bad input is never retried: fix spec.source and create the VideoJob again."

# Waiting reasons that will not clear on their own; the user or the platform must act.
STUCK_WAITING_REASONS = frozenset(
    {"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "CreateContainerConfigError"}
)


@dataclass(frozen=True)
class Diagnosis:
    reason: str
    message: str
    exit_code: int | None = None

    def as_status(self) -> dict[str, Any]:
        failure: dict[str, Any] = {"reason": self.reason, "message": self.message}
        if self.exit_code is not None:
            failure["exitCode"] = self.exit_code
        return failure


def job_condition(job: Mapping[str, Any] | None, *types: str) -> Mapping[str, Any] | None:
    """The first condition of one of these types whose status is True."""
    for condition in ((job or {}).get("status") or {}).get("conditions") or []:
        if condition.get("type") in types and condition.get("status") == "True":
            return condition
    return None


def job_failed(job: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    # FailureTarget comes first (pods may still be terminating); Failed once they are gone.
    return job_condition(job, "Failed", "FailureTarget")


def job_succeeded(job: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    return job_condition(job, "Complete", "SuccessCriteriaMet")


def pods_by_age(pods: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(
        pods, key=lambda pod: (pod["metadata"].get("creationTimestamp") or "", pod["metadata"].get("name", ""))
    )


def pods_by_finish(pods: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The Pods whose renderer has exited, in the order they exited (then by age)."""
    finished = [pod for pod in pods if terminated_state(pod)]
    return sorted(
        finished,
        key=lambda pod: (
            str((terminated_state(pod) or {}).get("finishedAt") or ""),
            pod["metadata"].get("creationTimestamp") or "",
            pod["metadata"].get("name", ""),
        ),
    )


# The Job controller's message when a podFailurePolicy rule fails the Job (pkg/controller/job, 1.34):
# "Container renderer for pod team-a/lesson-5b2d0e56-1-0-x7k2p failed with exit code 137 matching FailJob rule
# at index 2"
_FAIL_JOB_POD = re.compile(r"for pod [^/\s]{1,253}/(\S{1,253}) failed with exit code")


def _failed_indexes(job: Mapping[str, Any]) -> set[int]:
    """status.failedIndexes of an Indexed Job ("0,2-3"), as numbers."""
    indexes: set[int] = set()
    for part in str((job.get("status") or {}).get("failedIndexes") or "").split(","):
        first, _, last = part.partition("-")
        if first.strip().isdigit():
            indexes.update(range(int(first), int(last if last.strip().isdigit() else first) + 1))
    return indexes


def ending_pod(job: Mapping[str, Any] | None, pods: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The Pod whose end failed the Job.

    For a single Pod that is the last to exit. A fan-out's is not: once one index fails the Job,
    the Job controller stops every other index, and their Pods (SIGTERM: exit 143, or 137 once the
    grace period is over) exit after it, or the other indexes had finished their shares. So, in order:
    the Pod a podFailurePolicy rule named in the Job's condition (an OOM kill, bad input); else the
    first Pod to run out of memory or scratch (the operator ends an evicted attempt itself); else the
    last to exit of an index in status.failedIndexes (out of backoffLimitPerIndex); else the last to exit.
    """
    finished = pods_by_finish(pods)
    named = _FAIL_JOB_POD.search(str((job_failed(job) or {}).get("message") or ""))
    for pod in finished:
        if named and pod["metadata"].get("name") == named.group(1):
            return pod
    ran_out = [pod for pod in finished if ran_out_of_memory(pod) or evicted_for_scratch(pod)]
    if ran_out:
        return ran_out[0]
    failed_indexes = _failed_indexes(job or {})
    out_of_retries = [pod for pod in finished if completion_index(pod) in failed_indexes]
    last_of = out_of_retries or finished
    return last_of[-1] if last_of else None


def ran_out_of_memory(pod: Mapping[str, Any]) -> bool:
    return (terminated_state(pod) or {}).get("reason") == reasons.OOM_KILLED


def renderer_status(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == RENDERER_CONTAINER:
            return status
    return {}


def terminated_state(pod: Mapping[str, Any]) -> Mapping[str, Any] | None:
    status = renderer_status(pod)
    return (status.get("state") or {}).get("terminated") or (status.get("lastState") or {}).get("terminated")


def termination_message(pod: Mapping[str, Any]) -> Result | Failure | None:
    terminated = terminated_state(pod)
    return parse_termination_message(terminated.get("message")) if terminated else None


def memory_limit(pod: Mapping[str, Any]) -> str | None:
    for container in (pod.get("spec") or {}).get("containers") or []:
        if container.get("name") == RENDERER_CONTAINER:
            return ((container.get("resources") or {}).get("limits") or {}).get("memory")
    return None


def unschedulable_message(pod: Mapping[str, Any]) -> str | None:
    """The scheduler's explanation while the Pod cannot be placed, for example insufficient cpu."""
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if (
            condition.get("type") == "PodScheduled"
            and condition.get("status") == "False"
            and condition.get("reason") == "Unschedulable"
        ):
            return condition.get("message") or "no node can run the renderer Pod"
    return None


def stuck_diagnosis(pod: Mapping[str, Any]) -> Diagnosis | None:
    """A container that waits on something that will not fix itself (bad image, missing Secret)."""
    waiting = (renderer_status(pod).get("state") or {}).get("waiting") or {}
    reason = waiting.get("reason")
    if reason not in STUCK_WAITING_REASONS:
        return None
    detail = waiting.get("message") or reason
    image = renderer_status(pod).get("image") or next(
        (
            c.get("image")
            for c in (pod.get("spec") or {}).get("containers") or []
            if c.get("name") == RENDERER_CONTAINER
        ),
        "?",
    )
    if reason == "CreateContainerConfigError":
        return Diagnosis(
            reason,
            f"The renderer cannot start: {detail}. Create the missing Secret or key in this namespace "
            "(the S3 credentials Secret named by the operator, or spec.llm.apiKey.secretKeyRef).",
        )
    return Diagnosis(
        reason,
        f"The renderer image {image} cannot be pulled: {detail}. Check the operator's VIDEOJOB_RENDERER_IMAGE "
        "setting, that the image exists, and the registry credentials.",
    )


_EVICTION_LIMIT = re.compile(r'exceeds the limit "([^"]{1,40})"')


def scratch_limit(pod: Mapping[str, Any]) -> str | None:
    """The sizeLimit the kubelet enforced, from its eviction message (the operator keeps no Pod volumes)."""
    found = _EVICTION_LIMIT.search((pod.get("status") or {}).get("message") or "")
    return found.group(1) if found else None


def evicted_for_scratch(pod: Mapping[str, Any]) -> bool:
    """The kubelet evicted the Pod because its scratch volume passed the sizeLimit.

    Seen on the real node (kubelet 1.34): the kubelet stops such a Pod with SIGTERM (exit code
    143) and no DisruptionTarget condition (it is the Pod's own doing), so the Job counts an
    ordinary failure, and only the Pod's status says why:
    ``reason: Evicted``, ``message: Usage of EmptyDir volume "scratch" exceeds the limit "2Gi".``
    A podFailurePolicy rule cannot tell it from a deleted Pod (exit 143 too, which must be
    retried), so the operator ends the attempt's Job when it sees such a Pod and starts the next
    attempt with a bigger sizeLimit (attempts.py), never a retry at the same size.
    """
    status = pod.get("status") or {}
    return status.get("reason") == "Evicted" and f'EmptyDir volume "{SCRATCH_VOLUME}"' in (status.get("message") or "")


def _scratch_full(videojob: Mapping[str, Any], pod: Mapping[str, Any]) -> Diagnosis:
    limit = scratch_limit(pod) or "its sizeLimit"
    quality = (videojob.get("spec") or {}).get("quality") or "medium"
    terminated = terminated_state(pod)
    return Diagnosis(
        reasons.SCRATCH_FULL,
        f"The renderer ran out of scratch space: it wrote more than the {limit} sizeLimit of its {SCRATCH_VOLUME} "
        "volume (audio, scene clips and the video while it is made), and the kubelet evicted it. "
        f"The limit is the operator's scratch preset for quality {quality}: ask whoever runs the operator to "
        f'raise it (VIDEOJOB_PRESETS=\'{{"{quality}": {{"scratch": "..."}}}}\', the chart\'s '
        "operator.presets), or make the video shorter (spec.durationSeconds, fewer scenes) or a lower "
        "quality, and create the VideoJob again.",
        exit_code=terminated.get("exitCode") if terminated else None,
    )


def _oom(pod: Mapping[str, Any], attempts: int) -> Diagnosis:
    limit = memory_limit(pod) or "its limit"
    terminated = terminated_state(pod)
    return Diagnosis(
        reasons.OOM_KILLED,
        f"The renderer ran out of memory ({limit}) and was killed (OOMKilled) after {attempts} attempt(s). "
        "Raise spec.resources.limits.memory or lower quality "
        "(quality is immutable: create a new VideoJob with a lower one).",
        exit_code=terminated.get("exitCode") if terminated else 137,
    )


def _tries(last: Mapping[str, Any] | None, pods: Sequence[Mapping[str, Any]], job_status: Mapping[str, Any]) -> int:
    """How often the renderer whose end failed the Job was tried: its own index's Pods in a fan-out (each index
    is retried on its own, so three tries of each of two indexes are three, not six), else every Pod."""
    index = completion_index(last) if last is not None else None
    if index is not None:
        return sum(1 for pod in pods if completion_index(pod) == index) or 1
    return max(len(pods), int(job_status.get("failed") or 0)) or 1


def failed_diagnosis(
    videojob: Mapping[str, Any], job: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]
) -> Diagnosis:
    """Why a failed renderer Job failed, from its condition and the Pod whose end failed it (:func:`ending_pod`)."""
    condition = job_failed(job) or {}
    job_reason = condition.get("reason") or ""
    spec = videojob.get("spec") or {}
    job_status = job.get("status") or {}
    last = ending_pod(job, pods)
    attempts = _tries(last, pods, job_status)
    terminated = terminated_state(last) if last else None
    exit_code = terminated.get("exitCode") if terminated else None
    message = termination_message(last) if last else None
    renderer_failure = message if isinstance(message, Failure) else None

    if job_reason == "DeadlineExceeded":
        return Diagnosis(
            reasons.DEADLINE_EXCEEDED,
            "The render did not finish within spec.activeDeadlineSeconds "
            f"({spec.get('activeDeadlineSeconds', '?')} s). Raise spec.activeDeadlineSeconds, lower quality "
            "or shorten spec.durationSeconds, and create the VideoJob again.",
            exit_code=exit_code,
        )
    if last is not None and ran_out_of_memory(last):
        return _oom(last, attempts)
    if last is not None and evicted_for_scratch(last):
        return _scratch_full(videojob, last)
    if job_reason == "PodFailurePolicy" and exit_code == SIGKILL_EXIT_CODE:
        return Diagnosis(
            reasons.RENDER_FAILED,
            "The renderer was killed (SIGKILL, exit code 137) but not for memory, for example by a person "
            "or a node agent; a kill fails the attempt at once, since an OOM kill gets a bigger attempt instead. "
            f"Read `kubectl describe pod` of job/{job['metadata']['name']}, then create the VideoJob again.",
            exit_code=exit_code,
        )
    if job_reason == "PodFailurePolicy" or exit_code == EXIT_BAD_INPUT:
        reason = renderer_failure.reason if renderer_failure else FailureReason.INVALID_SPEC
        detail = renderer_failure.message if renderer_failure else "the renderer refused the spec (exit code 65)"
        return Diagnosis(
            reason,
            f"{detail.rstrip('.')}. {BAD_INPUT_ADVICE}",
            exit_code=exit_code if exit_code is not None else EXIT_BAD_INPUT,
        )
    if renderer_failure is not None:
        return Diagnosis(
            renderer_failure.reason,
            f"{renderer_failure.message.rstrip('.')}. The renderer failed {attempts} time(s) "
            f"(spec.retries={spec.get('retries', '?')}).",
            exit_code=exit_code,
        )
    if job_reason == "BackoffLimitExceeded" or last is not None:
        if terminated:
            last_exit = f"{terminated.get('reason') or 'Error'} with exit code {exit_code}"
        else:
            last_exit = "unknown (the Pod is gone)"
        job_name = job["metadata"]["name"]
        return Diagnosis(
            reasons.BACKOFF_LIMIT_EXCEEDED,
            f"The renderer failed {attempts} time(s), using up spec.retries={spec.get('retries', '?')}; "
            f"last exit: {last_exit}. Read `kubectl logs job/{job_name}`, then raise spec.retries "
            "or fix the cause and create the VideoJob again.",
            exit_code=exit_code,
        )
    return Diagnosis(
        job_reason or reasons.RENDER_FAILED, condition.get("message") or "The renderer Job failed.", exit_code
    )
