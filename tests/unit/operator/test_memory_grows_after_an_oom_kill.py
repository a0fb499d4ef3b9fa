"""An attempt killed for memory comes back as attempt N+1 with more memory, up to the operator's ceiling.

The Jobs here are the builder's own, with the status the Job controller writes and the
Pods the kubelet reports (the real node plays this in tests/e2e/test_oom_retry_on_a_real_node.py),
and the decision reads them through the same slim copies the operator's indexes hold.
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

GROWTH = attempts.Growths(memory=attempts.Growth(factor=1.5, ceiling="8Gi"), scratch=attempts.Growth(2.0, "40Gi"))


def _ago(seconds: float) -> str:
    return timestamp(datetime.now(UTC) - timedelta(seconds=seconds))


def renderer_job(kube, attempt=1, memory=None, failed_by=None, active=0, started=None):
    job = build_renderer_job(kube.videojob(quality="low"), OperatorSettings(), attempt=attempt, memory=memory)
    # The reconcile reads the clock: by default the first attempt started two minutes ago.
    job["status"] = {"startTime": started or _ago(120)}
    if active:
        job["status"]["active"] = active
    if failed_by is not None:
        job["status"]["failed"] = 1
        job["status"]["conditions"] = [kube.job_condition("FailureTarget", failed_by)]
    return slim.job(job)


def killed_pod(kube, job, reason="OOMKilled", exit_code=137):
    name = job["metadata"]["name"]
    return slim.pod(kube.pod(name=f"{name}-x", phase="Failed", state=kube.terminated(exit_code, reason), job_name=name))


def test_an_oom_killed_attempt_comes_back_with_the_memory_times_the_factor(kube) -> None:
    first = renderer_job(kube, failed_by="PodFailurePolicy")
    assert attempts.memory_limit(first) == "1Gi"  # the low preset
    step = attempts.next_attempt(first, [killed_pod(kube, first)], GROWTH)
    assert step == attempts.NextAttempt(attempt=2, memory="1536Mi", after="1Gi", scratch="2Gi", grew="memory")

    second = build_renderer_job(
        kube.videojob(quality="low"), OperatorSettings(), attempt=step.attempt, memory=step.memory
    )
    assert second["metadata"]["name"].endswith("-2") and second["metadata"]["labels"]["videojob.dev/attempt"] == "2"
    assert second["spec"]["template"]["metadata"]["labels"]["videojob.dev/attempt"] == "2"
    resources = second["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources["limits"]["memory"] == resources["requests"]["memory"] == "1536Mi"
    assert resources["limits"]["cpu"] == "1"  # only memory grows


def test_growth_stops_at_the_ceiling_and_then_gives_up(kube) -> None:
    near = renderer_job(kube, attempt=3, memory="6Gi", failed_by="PodFailurePolicy")
    assert attempts.next_attempt(near, [killed_pod(kube, near)], GROWTH).memory == "8Gi"
    at_ceiling = renderer_job(kube, attempt=4, memory="8Gi", failed_by="PodFailurePolicy")
    assert attempts.next_attempt(at_ceiling, [killed_pod(kube, at_ceiling)], GROWTH) is None


def test_a_render_that_needs_more_than_the_ceiling_fails_saying_what_to_set(kube) -> None:
    jobs = [renderer_job(kube, 1, "4Gi", "PodFailurePolicy"), renderer_job(kube, 2, "6Gi", "PodFailurePolicy")]
    jobs.append(renderer_job(kube, 3, "8Gi", "PodFailurePolicy"))
    pods = {job["metadata"]["name"]: [killed_pod(kube, job)] for job in jobs}
    seen = attempts.review(jobs, jobs[-1], lambda job: pods[job["metadata"]["name"]], GROWTH)
    status = compute_status(
        kube.videojob(quality="low"),
        Observation(now=kube.NOW, job=jobs[-1], pods=pods[jobs[-1]["metadata"]["name"]], **_fields(seen)),
    )
    assert status["phase"] == "Failed"
    assert status["failure"]["reason"] == "OOMKilled"
    message = status["failure"]["message"]
    assert "VIDEOJOB_OOM_MEMORY_CEILING=8Gi" in message and "needs more than the ceiling" in message
    assert "4Gi -> 6Gi -> 8Gi" in message
    assert [(a["attempt"], a["memory"], a["outcome"]) for a in status["attemptHistory"]] == [
        (1, "4Gi", "OOMKilled"),
        (2, "6Gi", "OOMKilled"),
        (3, "8Gi", "OOMKilled"),
    ]
    assert status["attempts"] == 3


@pytest.mark.parametrize(
    ("job_reason", "container_reason", "exit_code"),
    [
        ("BackoffLimitExceeded", "Error", 75),  # transient: the Job controller's retries are used up
        ("PodFailurePolicy", "Error", 65),  # bad input
        ("PodFailurePolicy", "Error", 137),  # killed, but not for memory
        ("DeadlineExceeded", "Error", 143),
    ],
)
def test_other_failures_make_no_new_attempt(kube, job_reason, container_reason, exit_code) -> None:
    job = renderer_job(kube, failed_by=job_reason)
    assert attempts.next_attempt(job, [killed_pod(kube, job, container_reason, exit_code)], GROWTH) is None


def test_an_attempt_still_running_or_done_makes_no_new_one(kube) -> None:
    running = renderer_job(kube, active=1)
    assert attempts.next_attempt(running, [killed_pod(kube, running)], GROWTH) is None  # a retry inside the Job


def test_no_more_than_the_most_attempts_even_below_the_ceiling(kube) -> None:
    growth = attempts.Growth(factor=1.1, ceiling="64Gi")
    last = renderer_job(kube, attempt=ATTEMPTS_MAX, memory="2Gi", failed_by="PodFailurePolicy")
    pods = [killed_pod(kube, last)]
    assert attempts.next_attempt(last, pods, attempts.Growths(growth, growth)) is None
    message = attempts.out_of_memory(last, pods, [], growth).message
    assert f"attempt {ATTEMPTS_MAX}, the most a VideoJob makes" in message and "VIDEOJOB_OOM_MEMORY_FACTOR" in message


def test_a_second_attempt_is_shown_with_both_memories_while_it_starts(kube) -> None:
    first = renderer_job(kube, failed_by="PodFailurePolicy")
    second = renderer_job(kube, attempt=2, memory="1536Mi")
    pods = {first["metadata"]["name"]: [killed_pod(kube, first)], second["metadata"]["name"]: []}
    seen = attempts.review([first], second, lambda job: pods[job["metadata"]["name"]], GROWTH)
    old = {"startTime": "2026-11-21T10:00:02Z", "phase": "Rendering"}
    status = compute_status(
        kube.videojob(quality="low", status=old), Observation(now=kube.NOW, job=second, **_fields(seen))
    )
    assert status["phase"] == "Pending" and status["jobName"] == second["metadata"]["name"]
    assert "attempt 2 with 1536Mi: attempt 1 ran out of memory at 1Gi" in status["stage"]
    assert [(a["attempt"], a["outcome"]) for a in status["attemptHistory"]] == [(1, "OOMKilled"), (2, "Pending")]
    assert status["startTime"] == "2026-11-21T10:00:02Z"  # the render began with the first attempt
    assert "failure" not in status


def test_a_bigger_attempt_whose_pod_stored_the_video_is_succeeded_in_the_history_too(kube) -> None:
    """The phase turns Succeeded from the Pod's exit, before the Job controller marks the Job
    Complete; the history must not still call that attempt Running meanwhile."""
    first = renderer_job(kube, failed_by="PodFailurePolicy")
    second = renderer_job(kube, attempt=2, memory="1536Mi", active=1)
    name = second["metadata"]["name"]
    done = slim.pod(
        kube.pod(name=f"{name}-y", phase="Succeeded", state=kube.terminated(0, "Completed", kube.result_message()),
                 job_name=name)
    )  # fmt: skip
    pods = {first["metadata"]["name"]: [killed_pod(kube, first)], name: [done]}
    seen = attempts.review([first], second, lambda job: pods[job["metadata"]["name"]], GROWTH)
    assert seen.history[-1]["outcome"] == "Running"  # what the Job alone says
    status = compute_status(
        kube.videojob(quality="low", status={"phase": "Rendering"}),
        Observation(now=kube.NOW, job=second, pods=[done], **_fields(seen)),
    )
    assert status["phase"] == "Succeeded"
    assert [(a["attempt"], a["outcome"]) for a in status["attemptHistory"]] == [(1, "OOMKilled"), (2, "Succeeded")]


def test_a_single_attempt_keeps_the_status_as_small_as_before(kube) -> None:
    job = renderer_job(kube, active=1)
    seen = attempts.review([job], job, lambda _: [], GROWTH)
    assert seen == attempts.Review([], 0, None)


def _fields(seen: attempts.Review) -> dict:
    return {
        "attempt_history": seen.history,
        "earlier_starts": seen.earlier_starts,
        "last_attempt": seen.last_attempt,
    }


# --- the reconcile, against an in-memory stand-in for the API -------------------------------


class CreatingApi:
    def __init__(self) -> None:
        self.created: list[dict] = []
        self.patches: list[dict] = []

    async def create_if_absent(self, manifest):
        self.created.append(copy.deepcopy(manifest))
        return True

    async def patch_videojob_status(self, namespace, name, status):
        self.patches.append(dict(status))
        return {"metadata": {"resourceVersion": "1"}, "status": dict(status)}


def _reconcile(kube, jobs, pods, **env) -> tuple[CreatingApi, list]:
    api, events = CreatingApi(), []
    settings = OperatorSettings(**env)
    reconciler = Reconciler(
        settings, cast(ClusterApi, api), OutputCleaner(settings), lambda body, *event: events.append(event)
    )  # the stand-in answers only the calls this reconcile makes
    reconciler.bind(
        World(
            videojobs={kube.UID: [kube.videojob(quality="low")]},
            jobs={kube.UID: jobs},
            pods={kube.UID: pods},
            priorities={},
        )
    )
    asyncio.run(reconciler.reconcile(kube.UID))
    return api, events


def test_the_reconcile_creates_the_bigger_attempt_and_says_so(kube) -> None:
    first = renderer_job(kube, failed_by="PodFailurePolicy")
    api, events = _reconcile(kube, [first], [killed_pod(kube, first)], oom_memory_factor=2.0)
    jobs = [m for m in api.created if m["kind"] == "Job"]
    assert len(jobs) == 1 and jobs[0]["metadata"]["labels"]["videojob.dev/attempt"] == "2"
    assert jobs[0]["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "2048Mi"
    assert any(reason == "MemoryRaised" and "starts with 2048Mi" in text for _, reason, text in events)
    assert api.patches[-1]["phase"] == "Pending" and api.patches[-1]["attemptHistory"][-1]["memory"] == "2048Mi"


def test_after_a_restart_the_second_attempt_is_not_created_again(kube) -> None:
    first = renderer_job(kube, failed_by="PodFailurePolicy")
    second = renderer_job(kube, attempt=2, memory="1536Mi", active=1)
    api, _ = _reconcile(kube, [second, first], [killed_pod(kube, first)])  # the index keeps no order
    # No Job made again (and no ConfigMap create yet: its Pod has not waited a minute, see test_creates_are_expected).
    assert [m["kind"] for m in api.created] == []
    assert api.patches[-1]["jobName"] == second["metadata"]["name"]


def test_bad_growth_settings_name_the_variable(monkeypatch) -> None:
    monkeypatch.setenv("VIDEOJOB_OOM_MEMORY_FACTOR", "1.0")
    monkeypatch.setenv("VIDEOJOB_OOM_MEMORY_CEILING", "lots")
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert "VIDEOJOB_OOM_MEMORY_FACTOR" in str(error.value) and "VIDEOJOB_OOM_MEMORY_CEILING" in str(error.value)
    assert "'lots' is not a memory quantity" in str(error.value)


# --- one deadline for every attempt ---------------------------------------------------------


def test_the_bigger_attempt_gets_what_is_left_of_the_deadline(kube) -> None:
    first = renderer_job(kube, failed_by="PodFailurePolicy", started=_ago(1000))
    api, _ = _reconcile(kube, [first], [killed_pod(kube, first)])
    (second,) = [m for m in api.created if m["kind"] == "Job"]
    assert 2595 <= second["spec"]["activeDeadlineSeconds"] <= 2600  # 3600 s from the first attempt's start


def test_a_deadline_spent_by_the_earlier_attempts_fails_with_deadline_exceeded_naming_the_field(kube) -> None:
    first = renderer_job(kube, failed_by="PodFailurePolicy", started=_ago(3700))
    api, _ = _reconcile(kube, [first], [killed_pod(kube, first)])
    assert [m for m in api.created if m["kind"] == "Job"] == []  # no bigger attempt once the deadline is spent
    status = api.patches[-1]
    assert (status["phase"], status["failure"]["reason"]) == ("Failed", "DeadlineExceeded")
    assert "spec.activeDeadlineSeconds (3600 s)" in status["failure"]["message"]
    assert "OOMKilled" in status["failure"]["message"] and "1Gi" in status["failure"]["message"]


def test_what_is_left_counts_from_the_first_attempt_whichever_attempt_the_index_lists_first(kube) -> None:
    first = renderer_job(kube, failed_by="PodFailurePolicy", started="2026-11-21T10:00:00Z")
    second = renderer_job(
        kube, attempt=2, memory="1536Mi", failed_by="PodFailurePolicy", started="2026-11-21T10:20:00Z"
    )
    started = attempts.first_start([second, first])
    assert started == datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    assert attempts.seconds_left(3600, started, datetime(2026, 11, 21, 10, 45, 30, tzinfo=UTC)) == 870
    assert attempts.seconds_left(3600, started, datetime(2026, 11, 21, 11, 0, 1, tzinfo=UTC)) == 0
    assert attempts.seconds_left(600, None, datetime(2026, 11, 21, 11, 0, tzinfo=UTC)) == 600  # nothing started yet


def test_the_history_has_one_entry_per_attempt_even_beside_an_earlier_versions_assembly_job(kube) -> None:
    first = renderer_job(kube, failed_by="PodFailurePolicy")
    leftover = copy.deepcopy(first) | {"metadata": first["metadata"] | {"name": first["metadata"]["name"] + "a"}}
    second = renderer_job(kube, attempt=2, memory="1536Mi", active=1)
    entries = attempts.history([second, leftover, first], {first["metadata"]["name"]: [killed_pod(kube, first)]})
    assert [(e["attempt"], e["jobName"], e["memory"], e["outcome"]) for e in entries] == [
        (1, first["metadata"]["name"], "1Gi", "OOMKilled"),
        (2, second["metadata"]["name"], "1536Mi", "Running"),
    ]
