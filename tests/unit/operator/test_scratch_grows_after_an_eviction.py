"""An attempt whose scratch volume passed its sizeLimit ends at once and comes back bigger, up to a ceiling.

The Pod status here plays the one the real kubelet writes when it evicts a Pod for its emptyDir
(phase Failed, reason Evicted, the volume and the limit in the message, SIGTERM's exit code 143 and
no DisruptionTarget condition); tests/e2e/test_chaos_scratch_full_on_a_real_node.py proves it on the
real node. The Jobs are the builder's own with the status the Job controller writes, read through the
slim copies the operator's indexes keep.
"""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest

from videojob.limits import ATTEMPTS_MAX
from videojob.operator import attempts, slim
from videojob.operator.builders import build_renderer_job
from videojob.operator.cleanup import OutputCleaner
from videojob.operator.kube import ClusterApi
from videojob.operator.reconciler import Reconciler
from videojob.operator.settings import OperatorSettings, SettingsError, load_settings
from videojob.operator.status import Observation, compute_status, timestamp
from videojob.operator.world import World

GROWTHS = attempts.Growths(memory=attempts.Growth(1.5, "8Gi"), scratch=attempts.Growth(2.0, "8Gi"))


def _ago(seconds: float) -> str:
    return timestamp(datetime.now(UTC) - timedelta(seconds=seconds))


def renderer_job(kube, attempt=1, memory=None, scratch=None, failed_by=None, active=0):
    job = build_renderer_job(
        kube.videojob(quality="low"), OperatorSettings(), attempt=attempt, memory=memory, scratch=scratch
    )
    job["status"] = {"startTime": _ago(120)}
    if active:
        job["status"]["active"] = active
    if failed_by is not None:
        job["status"]["failed"] = 1
        job["status"]["conditions"] = [kube.job_condition("Failed", failed_by)]
    return slim.job(job)


def evicted_pod(kube, job, limit, suffix="x"):
    name = job["metadata"]["name"]
    pod = kube.pod(name=f"{name}-{suffix}", phase="Failed", state=kube.terminated(143, "Error"), job_name=name)
    pod["status"] |= {
        "reason": "Evicted",
        "message": f'Usage of EmptyDir volume "scratch" exceeds the limit "{limit}". ',
    }
    return slim.pod(pod)


def oom_pod(kube, job):
    name = job["metadata"]["name"]
    return slim.pod(kube.pod(name=f"{name}-o", phase="Failed", state=kube.terminated(137, "OOMKilled"), job_name=name))


def test_an_evicted_attempt_comes_back_with_twice_the_scratch_and_the_same_memory(kube) -> None:
    first = renderer_job(kube, memory="1536Mi", failed_by="BackoffLimitExceeded")
    assert attempts.scratch_limit_of(first) == "2Gi"  # the low preset's, kept by the slim copy
    step = attempts.next_attempt(first, [evicted_pod(kube, first, "2Gi")], GROWTHS)
    assert step == attempts.NextAttempt(attempt=2, memory="1536Mi", after="2Gi", scratch="4096Mi", grew="scratch")


def test_the_grown_attempts_job_differs_from_the_first_only_in_name_attempt_and_scratch(kube) -> None:
    videojob = kube.videojob(quality="low")
    first = build_renderer_job(videojob, OperatorSettings())
    second = build_renderer_job(videojob, OperatorSettings(), attempt=2, memory="1Gi", scratch="4096Mi")
    expected = copy.deepcopy(first)
    expected["metadata"]["name"] = first["metadata"]["name"][:-1] + "2"
    for labels in (expected["metadata"]["labels"], expected["spec"]["template"]["metadata"]["labels"]):
        labels["videojob.dev/attempt"] = "2"
    expected["spec"]["template"]["spec"]["volumes"][0] = {"name": "scratch", "emptyDir": {"sizeLimit": "4096Mi"}}
    assert second == expected


def test_an_oom_kill_after_a_grown_scratch_keeps_the_grown_scratch(kube) -> None:
    second = renderer_job(kube, attempt=2, scratch="4096Mi", failed_by="PodFailurePolicy")
    step = attempts.next_attempt(second, [oom_pod(kube, second)], GROWTHS)
    assert (step.attempt, step.memory, step.scratch, step.grew) == (3, "1536Mi", "4096Mi", "memory")


def test_the_growth_stops_at_the_ceiling_and_then_fails_at_once_naming_the_size_and_the_setting(kube) -> None:
    jobs = [
        renderer_job(kube, 1, failed_by="BackoffLimitExceeded"),
        renderer_job(kube, 2, scratch="4096Mi", failed_by="BackoffLimitExceeded"),
        renderer_job(kube, 3, scratch="8Gi", failed_by="BackoffLimitExceeded"),
    ]
    assert attempts.next_attempt(jobs[1], [evicted_pod(kube, jobs[1], "4096Mi")], GROWTHS).scratch == "8Gi"
    pods = {job["metadata"]["name"]: [evicted_pod(kube, job, attempts.scratch_limit_of(job))] for job in jobs}
    assert attempts.next_attempt(jobs[-1], pods[jobs[-1]["metadata"]["name"]], GROWTHS) is None
    seen = attempts.review(jobs, jobs[-1], lambda job: pods[job["metadata"]["name"]], GROWTHS)
    status = compute_status(
        kube.videojob(quality="low"),
        Observation(
            now=kube.NOW,
            job=jobs[-1],
            pods=pods[jobs[-1]["metadata"]["name"]],
            attempt_history=seen.history,
            earlier_starts=seen.earlier_starts,
            last_attempt=seen.last_attempt,
        ),
    )
    assert (status["phase"], status["failure"]["reason"], status["failure"]["exitCode"]) == (
        "Failed",
        "ScratchFull",
        143,
    )
    message = status["failure"]["message"]
    assert "more than the 8Gi sizeLimit of its scratch volume" in message  # the size the kubelet enforced
    assert "VIDEOJOB_SCRATCH_CEILING=8Gi" in message and "needs more than the ceiling" in message
    assert "2Gi -> 4096Mi -> 8Gi" in message and "create the VideoJob again" in message
    assert [(a["attempt"], a["scratch"], a["outcome"]) for a in status["attemptHistory"]] == [
        (1, "2Gi", "ScratchFull"),
        (2, "4096Mi", "ScratchFull"),
        (3, "8Gi", "ScratchFull"),
    ]


def test_a_preset_already_at_the_ceiling_fails_on_the_first_eviction(kube) -> None:
    first = renderer_job(kube, failed_by="BackoffLimitExceeded")
    pods = [evicted_pod(kube, first, "2Gi")]
    at_ceiling = attempts.Growths(GROWTHS.memory, attempts.Growth(2.0, "2Gi"))
    seen = attempts.review([first], first, lambda _: pods, at_ceiling)
    assert seen.last_attempt is not None and seen.last_attempt.reason == "ScratchFull"
    assert "VIDEOJOB_SCRATCH_CEILING=2Gi" in seen.last_attempt.message


def test_no_more_than_the_most_attempts_even_below_the_ceiling(kube) -> None:
    last = renderer_job(kube, attempt=ATTEMPTS_MAX, scratch="3Gi", failed_by="BackoffLimitExceeded")
    pods = [evicted_pod(kube, last, "3Gi")]
    assert attempts.next_attempt(last, pods, GROWTHS) is None
    message = attempts.out_of_scratch(last, pods, [], GROWTHS.scratch).message
    assert f"attempt {ATTEMPTS_MAX}, the most a VideoJob makes" in message and "VIDEOJOB_SCRATCH_FACTOR" in message


def test_an_eviction_for_another_reason_makes_no_bigger_attempt(kube) -> None:
    first = renderer_job(kube, failed_by="BackoffLimitExceeded")
    pod = evicted_pod(kube, first, "2Gi")
    pod["status"]["message"] = "The node was low on resource: ephemeral-storage. "
    assert attempts.next_attempt(first, [pod], GROWTHS) is None
    assert attempts.scratch_eviction([pod]) is None


def test_the_stage_names_both_scratch_sizes_while_the_bigger_attempt_starts(kube) -> None:
    first = renderer_job(kube, failed_by="BackoffLimitExceeded")
    second = renderer_job(kube, attempt=2, scratch="4096Mi")
    pods = {first["metadata"]["name"]: [evicted_pod(kube, first, "2Gi")], second["metadata"]["name"]: []}
    seen = attempts.review([first], second, lambda job: pods[job["metadata"]["name"]], GROWTHS)
    status = compute_status(
        kube.videojob(quality="low", status={"phase": "Rendering"}),
        Observation(now=kube.NOW, job=second, attempt_history=seen.history, earlier_starts=seen.earlier_starts),
    )
    assert "attempt 2 with 4096Mi of scratch: attempt 1 filled its 2Gi" in status["stage"]
    assert [(a["attempt"], a["scratch"], a["outcome"]) for a in status["attemptHistory"]] == [
        (1, "2Gi", "ScratchFull"),
        (2, "4096Mi", "Pending"),
    ]
    assert "failure" not in status


# --- the reconcile, against an in-memory stand-in for the API -------------------------------


class RecordingApi:
    def __init__(self) -> None:
        self.created: list[dict] = []
        self.patches: list[dict] = []
        self.backoff_limits: list[tuple[str, str, int]] = []

    async def create_if_absent(self, manifest):
        self.created.append(copy.deepcopy(manifest))
        return True

    async def set_job_backoff_limit(self, namespace, name, limit):
        self.backoff_limits.append((namespace, name, limit))

    async def patch_videojob_status(self, namespace, name, status):
        self.patches.append(dict(status))
        return {"metadata": {"resourceVersion": "1"}, "status": dict(status)}


def _reconciler(kube, jobs, pods, **env) -> tuple[Reconciler, RecordingApi, list]:
    api, events = RecordingApi(), []
    settings = OperatorSettings(**env)
    reconciler = Reconciler(
        settings, cast(ClusterApi, api), OutputCleaner(settings), lambda body, *event: events.append(event)
    )  # the stand-in answers only the calls these reconciles make
    world = World(
        videojobs={kube.UID: [kube.videojob(quality="low")]},
        jobs={kube.UID: jobs},
        pods={kube.UID: pods},
        priorities={},
    )
    reconciler.bind(world)
    return reconciler, api, events


def test_the_reconcile_ends_an_attempt_whose_pod_was_evicted_instead_of_a_retry_at_the_same_size(kube) -> None:
    """The Job controller has counted the evicted Pod and would start another after its backoff: the
    operator sets the Job's backoffLimit to 0 so that it fails now (once, however often it reconciles)."""
    running = renderer_job(kube, active=0)
    running["status"]["failed"] = 1  # counted, not yet failed: spec.retries is 2
    reconciler, api, events = _reconciler(kube, [running], [evicted_pod(kube, running, "2Gi")])
    asyncio.run(reconciler.reconcile(kube.UID))
    asyncio.run(reconciler.reconcile(kube.UID))
    assert api.backoff_limits == [("team-a", running["metadata"]["name"], 0)]
    assert [m for m in api.created if m["kind"] == "Job"] == []  # the bigger attempt waits for the Job to fail
    (ended,) = [text for _, reason, text in events if reason == "ScratchFull"]
    assert "sizeLimit 2Gi" in ended and "no Pod is retried at that size" in ended


def test_the_reconcile_starts_the_bigger_attempt_once_the_evicted_attempt_failed(kube) -> None:
    first = renderer_job(kube, memory="1536Mi", failed_by="BackoffLimitExceeded")
    reconciler, api, events = _reconciler(kube, [first], [evicted_pod(kube, first, "2Gi")], scratch_factor=3.0)
    asyncio.run(reconciler.reconcile(kube.UID))
    (second,) = [m for m in api.created if m["kind"] == "Job"]
    assert second["metadata"]["labels"]["videojob.dev/attempt"] == "2"
    assert second["spec"]["template"]["spec"]["volumes"][0] == {"name": "scratch", "emptyDir": {"sizeLimit": "6144Mi"}}
    assert second["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "1536Mi"
    assert any(reason == "ScratchRaised" and "starts with 6144Mi of scratch" in text for _, reason, text in events)
    assert api.backoff_limits == []  # the Job had failed already
    history = api.patches[-1]["attemptHistory"]
    assert [(a["attempt"], a["scratch"], a["outcome"]) for a in history] == [
        (1, "2Gi", "ScratchFull"),
        (2, "6144Mi", "Pending"),
    ]


def test_bad_scratch_settings_name_the_variable(monkeypatch) -> None:
    monkeypatch.setenv("VIDEOJOB_SCRATCH_FACTOR", "1.0")
    monkeypatch.setenv("VIDEOJOB_SCRATCH_CEILING", "plenty")
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert "VIDEOJOB_SCRATCH_FACTOR" in str(error.value) and "VIDEOJOB_SCRATCH_CEILING" in str(error.value)
    assert "'plenty' is not a size" in str(error.value)


def test_a_deadline_spent_by_the_evicted_attempt_fails_with_deadline_exceeded_naming_the_scratch(kube) -> None:
    first = renderer_job(kube, failed_by="BackoffLimitExceeded")
    first["status"]["startTime"] = _ago(3700)
    reconciler, api, _ = _reconciler(kube, [first], [evicted_pod(kube, first, "2Gi")])
    asyncio.run(reconciler.reconcile(kube.UID))
    assert [m for m in api.created if m["kind"] == "Job"] == []  # no bigger attempt once the deadline is spent
    failure = api.patches[-1]["failure"]
    assert failure["reason"] == "DeadlineExceeded"
    assert "filled its scratch volume (ScratchFull) on attempt 1 at 2Gi" in failure["message"]
    assert "spec.activeDeadlineSeconds (3600 s)" in failure["message"]
