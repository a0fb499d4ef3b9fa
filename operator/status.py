"""The VideoJob's status as a pure function of what the operator observed.

    compute_status(videojob, Observation(job=..., pods=..., progress=..., now=...)) -> status

The caller turns the result into a merge patch with :func:`status_patch` and writes it
only when something changed, so recomputing on every watch event is cheap and an
operator restart loses nothing: the status is rebuilt from the Job and its Pods.

Phase choices worth knowing:
* ``spec.suspend: true`` gives phase **Suspended** (not Cancelled): the VideoJob keeps its
  place and resuming starts the current attempt again.
* A Pod the scheduler cannot place gives phase **Queued** with the scheduler's message in
  ``stage``, the same phase as waiting for one of the operator's render slots.
* After an OOM kill the VideoJob goes on with its next attempt (a new Job with more memory,
  see attempts.py): the status follows the newest Job, ``attemptHistory`` lists every
  attempt's memory and outcome, and ``attempts`` counts the Pods of all of them.
* A Job that Kueue holds (``spec.queueName``) gives phase **Queued** with Kueue's reason
  (Progressing reason ``Kueue<reason>``, its message in ``stage``) until Kueue admits it.
* An image or Secret problem keeps phase **Pending** (Kubernetes keeps retrying) but
  sets ``failure`` and Progressing=False so the user sees what to fix; the Job's
  deadline eventually fails it.
* **Succeeded** comes from the renderer Pods as soon as they show it, without waiting for
  the Job controller's Complete condition (seconds later on a real node): every index's
  newest Pod exited 0 and one of them wrote the Result (its video is stored by then).
  A Pod whose container still runs counts as ended once its log said so (the Result or
  share/v1 line the renderer writes just after its termination message, see
  :mod:`videojob.contract`): the kubelet shows the container terminated up to a second
  later. A container that has terminated is judged by its termination state only.
  ``completionTime`` is when the last renderer exited (or said its end), the same before
  and after the Job completes. A fanned-out render's ``usage`` adds up every share Pod's
  figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from videojob.contract import ProgressEvent, Result, ShareDone, Usage, parse_share_message
from videojob.status import STAGE_MAX_CHARS

from . import reasons
from .failures import (
    Diagnosis,
    failed_diagnosis,
    job_condition,
    job_failed,
    job_succeeded,
    pods_by_age,
    stuck_diagnosis,
    terminated_state,
    termination_message,
    unschedulable_message,
)
from .fanout import STEP_LABEL, STEP_SHARES
from .kueue import KueueWait

OWNED_KEYS = (
    "phase", "progress", "stage", "queuePosition", "estimatedCompletionTime", "startTime", "completionTime",
    "attempts", "attemptHistory", "jobName", "observedGeneration", "conditions", "output", "usage", "failure",
)  # fmt: skip


@dataclass(frozen=True)
class Observation:
    """Everything the status depends on besides the VideoJob itself."""

    now: datetime
    job: Mapping[str, Any] | None = None
    pods: Sequence[Mapping[str, Any]] = ()
    progress: ProgressEvent | None = None
    queue_position: int | None = None
    queue_length: int | None = None
    invalid_spec: str | None = None
    invalid_reason: str = reasons.INVALID_SPEC  # InvalidStoryboard for a lecture the renderer would refuse
    attempt_history: Sequence[Mapping[str, Any]] = ()  # from attempts.history(), oldest first
    earlier_starts: int = 0  # renderer Pods started by the attempts before ``job``
    last_attempt: Diagnosis | None = None  # ``job`` ran out of room and no bigger attempt starts: why (attempts.py)
    kueue: KueueWait | None = None  # Kueue holds ``job`` suspended: its reason
    # What a renderer Pod's log said at its end (Result or ShareDone), by Pod uid, before its container is seen over.
    ends_logged: Mapping[str, Result | ShareDone] = field(default_factory=dict)


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _condition(type_: str, status: bool, reason: str, message: str) -> dict[str, Any]:
    return {"type": type_, "status": "True" if status else "False", "reason": reason, "message": message}


def _conditions(
    phase: str, progressing_reason: str, message: str, failure: Diagnosis | None, accepted: Diagnosis | None
) -> list[dict[str, Any]]:
    succeeded = phase == reasons.PHASE_SUCCEEDED
    failed = phase == reasons.PHASE_FAILED
    running = phase in reasons.RENDERER_PHASES or (phase == reasons.PENDING and failure is None)
    if accepted is not None:
        accepted_condition = _condition(reasons.ACCEPTED, False, accepted.reason, accepted.message)
    else:
        accepted_condition = _condition(reasons.ACCEPTED, True, reasons.SPEC_ACCEPTED, "The spec is valid.")
    outcome_reason = (
        reasons.RENDER_SUCCEEDED if succeeded else reasons.RENDER_FAILED if failed else reasons.NOT_FINISHED
    )
    return [
        accepted_condition,
        _condition(reasons.PROGRESSING, running, progressing_reason, message),
        _condition(reasons.SUCCEEDED, succeeded, outcome_reason, "The video is stored." if succeeded else message),
        _condition(
            reasons.FAILED,
            failed,
            failure.reason if failed and failure else outcome_reason,
            failure.message if failed and failure else message,
        ),
    ]


def _keep_transition_times(
    new: list[dict[str, Any]], old: Sequence[Mapping[str, Any]], now: datetime, generation: int
) -> list[dict[str, Any]]:
    previous = {c.get("type"): c for c in old or []}
    for condition in new:
        before = previous.get(condition["type"])
        same = before is not None and before.get("status") == condition["status"]
        kept = before.get("lastTransitionTime") if before is not None and same else None
        condition["lastTransitionTime"] = kept or timestamp(now)
        condition["observedGeneration"] = generation
    return new


def _output(
    result: Result, pods: Sequence[Mapping[str, Any]], logged: Mapping[str, Result | ShareDone]
) -> tuple[dict[str, Any], dict[str, Any]]:
    output = result.output.model_dump(mode="json", by_alias=True, exclude_none=True)
    output.setdefault("url", f"s3://{result.output.bucket}/{result.output.key}")
    usage = every_pods_usage(result.usage, pods, logged)
    return output, usage.model_dump(mode="json", by_alias=True, exclude_none=True)


def said_at_end(pod: Mapping[str, Any], logged: Mapping[str, Result | ShareDone]) -> Result | ShareDone | None:
    """What the Pod's renderer said it had done: its termination message once its container has terminated
    (exit 0 or not), else the end its log said, if any (see the module docstring)."""
    terminated = terminated_state(pod)
    if terminated is None:
        return logged.get(str(pod["metadata"].get("uid")))
    if terminated.get("exitCode") != 0:
        return None
    message = terminated.get("message")
    return parse_share_message(message) or _result(termination_message(pod))


def _result(message: object) -> Result | None:
    return message if isinstance(message, Result) else None


def every_pods_usage(
    result: Usage, pods: Sequence[Mapping[str, Any]], logged: Mapping[str, Result | ShareDone] | None = None
) -> Usage:
    """The Result's usage with every share Pod's (``share/v1`` termination messages, or log lines) added:
    counts and CPU seconds summed, peak memory the largest of any one Pod (each Pod has its own limit)."""
    total = result
    for pod in pods:
        done = said_at_end(pod, logged or {})
        if not isinstance(done, ShareDone):
            continue
        usage = done.usage
        total = total.model_copy(
            update={
                "llm_prompt_tokens": total.llm_prompt_tokens + usage.llm_prompt_tokens,
                "llm_completion_tokens": total.llm_completion_tokens + usage.llm_completion_tokens,
                "tts_characters": total.tts_characters + usage.tts_characters,
                "cpu_seconds": round(total.cpu_seconds + usage.cpu_seconds, 2),
                "scenes_rendered": total.scenes_rendered + usage.scenes_rendered,
                "scenes_cached": total.scenes_cached + usage.scenes_cached,
                "peak_memory_bytes": max(total.peak_memory_bytes, usage.peak_memory_bytes),
            }
        )
    return total


def _index(pod: Mapping[str, Any]) -> str:
    return str((pod["metadata"].get("labels") or {}).get("batch.kubernetes.io/job-completion-index") or "0")


def _newest_of_each_index(job: Mapping[str, Any] | None, pods: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Every index's newest Pod (by age; one index for a single-Pod render), or [] while some index has none."""
    completions = int(((job or {}).get("spec") or {}).get("completions") or 1)
    newest = {_index(pod): pod for pod in pods_by_age(pods)}
    return [] if job is None or len(newest) < completions else list(newest.values())


def _every_index_exited_0(job: Mapping[str, Any] | None, pods: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Every index's newest Pod (by age; one index for a single-Pod render) when each exited 0; else []."""
    newest = _newest_of_each_index(job, pods)
    ends = [terminated_state(pod) or {} for pod in newest]
    if any(end.get("exitCode") != 0 or "finishedAt" not in end for end in ends):
        return []
    return newest


def renderers_done(
    job: Mapping[str, Any] | None,
    pods: Sequence[Mapping[str, Any]],
    logged: Mapping[str, Result | ShareDone] | None = None,
    now: datetime | None = None,
) -> str | None:
    """When the render ended, if it is over as far as its Pods show: every index's newest Pod (by age; one
    index for a single-Pod render) exited 0 or, still running, said its end in its log (``logged``), and
    one of them wrote the Result. The last exit's time, or ``now`` when the last end was only said.
    None otherwise."""
    newest = _newest_of_each_index(job, pods)
    ends = [said_at_end(pod, logged or {}) for pod in newest]
    if not newest or any(end is None for end in ends) or not any(isinstance(end, Result) for end in ends):
        return None
    finished = [str(state["finishedAt"]) for pod in newest if (state := terminated_state(pod)) is not None]
    if len(finished) < len(newest):  # one only said its end: it is over as of now
        return timestamp(now or datetime.now(UTC))
    return max(finished)


def shares_left_unjoined(job: Mapping[str, Any] | None, pods: Sequence[Mapping[str, Any]]) -> bool:
    """A shares Job whose every index exited 0 and none wrote the Result: its renderer is one from before the
    last index joined the video (every index wrote share/v1 and left the join to an assembly Job), so the
    Job completes with no video. The Pods' messages are what tells, not the Job: the operator keeps no
    Job annotations or env (slim.py), and the old and new shares Jobs carry the same labels."""
    if ((job or {}).get("metadata") or {}).get("labels", {}).get(STEP_LABEL) != STEP_SHARES:
        return False
    exited = _every_index_exited_0(job, pods)
    return bool(exited) and not any(isinstance(termination_message(pod), Result) for pod in exited)


def compute_status(videojob: Mapping[str, Any], seen: Observation) -> dict[str, Any]:
    """The full operator-owned status for this VideoJob (keys in :data:`OWNED_KEYS`)."""
    metadata = videojob["metadata"]
    spec = videojob.get("spec") or {}
    old = videojob.get("status") or {}
    generation = int(metadata.get("generation") or 1)
    job, pods = seen.job, pods_by_age(seen.pods)
    job_status = (job or {}).get("status") or {}
    status: dict[str, Any] = {"observedGeneration": generation, "progress": int(old.get("progress") or 0)}
    starts = 0  # renderer Pods of this attempt's Job
    if job is not None:
        status["jobName"] = job["metadata"]["name"]
        attempts = sum(int(job_status.get(key) or 0) for key in ("failed", "succeeded", "active"))
        starts = max(attempts, len(pods))
        status["attempts"] = starts + seen.earlier_starts
        # A later attempt keeps the first one's start: the render began then.
        started = (old.get("startTime") if seen.attempt_history else None) or job_status.get("startTime")
        if started:
            status["startTime"] = started
    if seen.attempt_history:
        status["attemptHistory"] = [dict(entry) for entry in seen.attempt_history]
    failure: Diagnosis | None = None
    invalid: Diagnosis | None = None
    newest = pods[-1] if pods else None
    exited = renderers_done(job, pods, seen.ends_logged, seen.now)  # the Pods show the end before the Job does

    if seen.invalid_spec is not None:
        invalid = failure = Diagnosis(seen.invalid_reason, seen.invalid_spec)
        phase, why, stage = reasons.PHASE_FAILED, reasons.RENDER_FAILED, f"Invalid spec: {seen.invalid_spec}"
    elif job is not None and shares_left_unjoined(job, pods):  # never Succeeded without a video
        phase, why, stage = reasons.ASSEMBLING, reasons.RUNNING, "Assembling: every share is drawn, joining them"
    elif job is not None and (
        (succeeded := job_succeeded(job)) is not None or exited is not None or _succeeded_before(old, job)
    ):
        phase, why, stage = reasons.PHASE_SUCCEEDED, reasons.RENDER_SUCCEEDED, "Done"
        status["progress"] = 100
        history = status.get("attemptHistory") or []
        if history and history[-1].get("jobName") == job["metadata"]["name"]:
            history[-1]["outcome"] = "Succeeded"  # as the phase says: the Pods show it before the Job does
        said = (said_at_end(pod, seen.ends_logged) for pod in reversed(pods))
        result = next((m for m in said if isinstance(m, Result)), None)
        if result is not None:
            status["output"], status["usage"] = _output(result, pods, seen.ends_logged)
        elif old.get("output"):
            status["output"], status["usage"] = old["output"], old.get("usage") or {}
        status["completionTime"] = (
            (old.get("completionTime") if old.get("phase") == reasons.PHASE_SUCCEEDED else None)
            or exited
            or job_status.get("completionTime")
            or (succeeded or {}).get("lastTransitionTime")
            or timestamp(seen.now)
        )
    elif job is not None and (failed := job_failed(job)) is not None:
        failure = failed_diagnosis(videojob, job, pods)
        if failure.reason in (reasons.OOM_KILLED, reasons.SCRATCH_FULL) and seen.last_attempt is not None:
            failure = seen.last_attempt
        phase, why, stage = reasons.PHASE_FAILED, reasons.RENDER_FAILED, f"Failed: {failure.reason}"
        status["completionTime"] = failed.get("lastTransitionTime") or timestamp(seen.now)
    elif spec.get("suspend"):
        phase, why = reasons.SUSPENDED, reasons.SUSPENDED_BY_USER
        stage = "Suspended: set spec.suspend to false to resume"
    elif seen.queue_position is not None:
        phase, why = reasons.QUEUED, reasons.WAITING_FOR_SLOT
        stage = (
            f"Queued for a render slot: position {seen.queue_position} of {seen.queue_length or seen.queue_position}"
        )
        status["queuePosition"] = seen.queue_position
    elif seen.kueue is not None:
        phase, why, stage = reasons.QUEUED, seen.kueue.progressing_reason, seen.kueue.stage
    elif _held_since_restart(old, status, job, newest, seen):
        # A restarted operator has not re-read the running renderer's log (or listed its Pod) yet: what
        # it wrote last still holds, rather than going back to Pending until the next progress line.
        phase, why, stage = old["phase"], reasons.RUNNING, str(old.get("stage") or "")
        if old.get("estimatedCompletionTime"):
            status["estimatedCompletionTime"] = old["estimatedCompletionTime"]
    elif job is None or job_condition(job, "Suspended") or newest is None:
        phase, why, stage = reasons.PENDING, reasons.STARTING, "Starting the renderer" + _grown(seen)
    elif (scheduler_says := unschedulable_message(newest)) is not None:
        phase, why, stage = reasons.QUEUED, reasons.UNSCHEDULABLE, f"Unschedulable: {scheduler_says}{_grown(seen)}"
    elif (stuck := stuck_diagnosis(newest)) is not None:
        failure = stuck
        phase, why, stage = reasons.PENDING, stuck.reason, f"Stuck: {stuck.reason}"
    # A Pod that has Succeeded while the Job is not yet Complete (the Job controller lags by
    # about a second) is still best described by the renderer's own last event.
    elif seen.progress is not None and (newest.get("status") or {}).get("phase") in ("Running", "Succeeded"):
        event = seen.progress
        phase, why, stage = event.phase, reasons.RUNNING, event.stage
        status["progress"] = int(event.progress)
        if event.eta_seconds is not None:
            status["estimatedCompletionTime"] = timestamp(event.time + timedelta(seconds=event.eta_seconds))
    else:
        phase, why = reasons.PENDING, reasons.STARTING
        running = (newest.get("status") or {}).get("phase") == "Running"
        stage = "Renderer running, waiting for its first progress event" if running else "Starting the renderer Pod"
        stage += _grown(seen)
        shared = int(((job or {}).get("spec") or {}).get("completions") or 1) > 1  # a fan-out's Pods are not tries
        if starts > 1 and not shared:
            stage += f" (try {starts} of {int(spec.get('retries', 0)) + 1})"

    status["phase"], status["stage"] = phase, stage[:STAGE_MAX_CHARS]
    if failure is not None:
        status["failure"] = failure.as_status()
    message = failure.message if failure is not None else stage
    conditions = _conditions(phase, why, message, failure, invalid)
    status["conditions"] = _keep_transition_times(conditions, old.get("conditions") or [], seen.now, generation)
    return status


def _succeeded_before(old: Mapping[str, Any], job: Mapping[str, Any]) -> bool:
    """This Job's render was already called Succeeded: its video is stored, so it stays so, even if the renderer
    that said its Result then exits non-zero and the Job controller starts another Pod."""
    return old.get("phase") == reasons.PHASE_SUCCEEDED and old.get("jobName") == job["metadata"]["name"]


def _held_since_restart(
    old: Mapping[str, Any],
    status: Mapping[str, Any],
    job: Mapping[str, Any] | None,
    newest: Mapping[str, Any] | None,
    seen: Observation,
) -> bool:
    """Whether the render the status last described is still the one going on, with no progress seen since:
    the same Job (not a bigger attempt's), unfinished and not suspended, and its Pod not yet listed again,
    or listed Running (or just Succeeded, the Job not yet Complete) with no new try started."""
    if seen.progress is not None or job is None or old.get("phase") not in reasons.RENDERER_PHASES:
        return False
    name = job["metadata"]["name"]
    if old.get("jobName") != name or job_condition(job, "Suspended"):
        return False
    if newest is None:
        return True
    pod_phase = (newest.get("status") or {}).get("phase")
    return pod_phase in ("Running", "Succeeded") and old.get("attempts") == status.get("attempts")


def _grown(seen: Observation) -> str:
    """The stage's note while a bigger attempt starts after an OOM kill or an eviction for scratch."""
    if len(seen.attempt_history) < 2:
        return ""
    newest, before = seen.attempt_history[-1], seen.attempt_history[-2]
    if before.get("outcome") == reasons.SCRATCH_FULL:
        return (
            f" (attempt {newest.get('attempt')} with {newest.get('scratch', '?')} of scratch: "
            f"attempt {before.get('attempt')} filled its {before.get('scratch', '?')})"
        )
    return (
        f" (attempt {newest.get('attempt')} with {newest.get('memory', '?')}: "
        f"attempt {before.get('attempt')} ran out of memory at {before.get('memory', '?')})"
    )


def status_patch(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON merge patch from the old status to the new one; empty when nothing changed."""
    old = old or {}
    patch: dict[str, Any] = {}
    for key in OWNED_KEYS:
        if key in new and new[key] != old.get(key):
            patch[key] = new[key]
        elif key not in new and old.get(key) is not None:
            patch[key] = None
    return patch
