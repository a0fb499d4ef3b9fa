"""One index of a fan-out runs out of memory or scratch while the others render: the next attempt is bigger.

A fan-out's Job is Indexed (``backoffLimitPerIndex``). When one index's Pod is OOMKilled the
podFailurePolicy fails the whole Job (its condition names that Pod), and the Job controller then stops
every other index: their Pods exit after the killed one (SIGTERM: exit 143, or 137 past the grace
period), or had already finished their shares. When one is evicted for its scratch the operator ends
the Job (backoffLimit 0), and the same follows. So the Pod that ran out is not the last to exit, and
the attempt must be read from the one that did. The Pods here play what the Job controller and the
kubelet write (index Pods named ``<job>-<index>-<suffix>``, one creation time, as they are made);
tests/e2e/test_fanout_retries_on_a_real_node.py proves the scratch case on the real node.
"""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from videojob.operator import failures, fanout, slim
from videojob.operator.builders import build_shares_job
from videojob.operator.cleanup import OutputCleaner
from videojob.operator.kube import ClusterApi
from videojob.operator.reconciler import Reconciler
from videojob.operator.settings import OperatorSettings
from videojob.operator.status import timestamp
from videojob.operator.world import World

from .test_scratch_grows_after_an_eviction import RecordingApi


def _ago(seconds: float) -> str:
    return timestamp(datetime.now(UTC) - timedelta(seconds=seconds))


def _videojob(kube) -> dict[str, Any]:
    return kube.videojob(quality="low", parallelism=2)


def _shares(kube, *, attempt=1, memory=None, scratch=None, failed_by=None, message="", **counts) -> dict[str, Any]:
    job = build_shares_job(_videojob(kube), OperatorSettings(), pods=2, attempt=attempt, memory=memory, scratch=scratch)
    job["status"] = {"startTime": _ago(120)} | {key: value for key, value in counts.items() if value}
    if failed_by is not None:
        job["status"]["conditions"] = [
            kube.job_condition("FailureTarget", failed_by, message),
            kube.job_condition("Failed", failed_by, message),
        ]
    return slim.job(job)


def _index_pod(kube, job, index, state, *, finished, phase="Failed", stopped=False) -> dict[str, Any]:
    name = job["metadata"]["name"]
    pod = kube.pod(name=f"{name}-{index}-x7k2p", phase=phase, state=state, job_name=name)
    pod["metadata"]["labels"][fanout.COMPLETION_INDEX_LABEL] = str(index)
    pod["status"]["containerStatuses"][0]["state"]["terminated"]["finishedAt"] = finished
    if stopped:  # the Job controller deletes the other indexes' Pods once the Job fails
        pod["metadata"]["deletionTimestamp"] = "2026-11-21T10:02:01Z"
    return slim.pod(pod)


def _evicted(kube, job, index, limit, *, finished) -> dict[str, Any]:
    pod = _index_pod(kube, job, index, kube.terminated(143), finished=finished)
    pod["status"] |= {
        "reason": "Evicted",
        "message": f'Usage of EmptyDir volume "scratch" exceeds the limit "{limit}". ',
    }
    return pod


def _fail_job_message(pod: dict, exit_code: int, rule: int) -> str:
    """The Job controller's condition message when a podFailurePolicy FailJob rule matched (1.34)."""
    return (
        f"Container renderer for pod team-a/{pod['metadata']['name']} failed with exit code {exit_code} "
        f"matching FailJob rule at index {rule}"
    )


def _reconcile(kube, jobs, pods, **settings) -> tuple[RecordingApi, list, dict[str, Any]]:
    api, events = RecordingApi(), []
    config = OperatorSettings(**settings)
    reconciler = Reconciler(
        config, cast(ClusterApi, api), OutputCleaner(config), lambda body, *event: events.append(event)
    )  # the stand-in answers only the calls these reconciles make
    reconciler.bind(
        World(videojobs={kube.UID: [_videojob(kube)]}, jobs={kube.UID: jobs}, pods={kube.UID: pods}, priorities={})
    )
    asyncio.run(reconciler.reconcile(kube.UID))
    return api, events, api.patches[-1]


def _oom_killed_index_0(kube, memory=None) -> tuple[dict, list[dict]]:
    """Index 0 OOMKilled at 10:02:00; index 1, stopped by the Job controller, exits 143 three seconds later."""
    first = _shares(kube, memory=memory, failed=2, failed_by="PodFailurePolicy")
    killed = _index_pod(kube, first, 0, kube.terminated(137, "OOMKilled"), finished="2026-11-21T10:02:00Z")
    stopped = _index_pod(kube, first, 1, kube.terminated(143), finished="2026-11-21T10:02:03Z", stopped=True)
    for condition in first["status"]["conditions"]:
        condition["message"] = _fail_job_message(killed, 137, 2)
    return first, [killed, stopped]


def test_an_index_killed_for_memory_starts_a_bigger_fan_out_though_the_stopped_index_exits_after_it(kube) -> None:
    first, pods = _oom_killed_index_0(kube)
    api, events, status = _reconcile(kube, [first], pods)

    (second,) = [made for made in api.created if made["kind"] == "Job"]
    assert (fanout.step(second), second["spec"]["completionMode"], second["spec"]["completions"]) == (
        "shares",
        "Indexed",
        2,
    )  # both indexes again: each finds the scenes it finished in the cache
    template = second["spec"]["template"]["spec"]
    assert template["containers"][0]["resources"]["limits"]["memory"] == "1536Mi"  # low's 1Gi x 1.5
    assert template["volumes"][0] == {"name": "scratch", "emptyDir": {"sizeLimit": "2Gi"}}  # scratch kept
    assert [(a["attempt"], a["memory"], a["outcome"]) for a in status["attemptHistory"]] == [
        (1, "1Gi", "OOMKilled"),
        (2, "1536Mi", "Pending"),
    ]
    assert "failure" not in status
    assert any(reason == "MemoryRaised" for _, reason, _ in events)


def test_the_attempt_is_read_the_same_before_and_after_the_job_controller_names_the_killed_pod(kube) -> None:
    first, pods = _oom_killed_index_0(kube)
    for condition in first["status"]["conditions"]:
        condition["message"] = ""  # a FailureTarget without the rule's words: the kill itself tells
    api, _, status = _reconcile(kube, [first], pods)
    assert [made["metadata"]["labels"]["videojob.dev/attempt"] for made in api.created if made["kind"] == "Job"] == [
        "2"
    ]
    assert status["attemptHistory"][0]["outcome"] == "OOMKilled"


def test_an_index_killed_for_memory_at_the_ceiling_fails_as_oom_killed_not_as_bad_input(kube) -> None:
    first, pods = _oom_killed_index_0(kube, memory="8Gi")
    api, _, status = _reconcile(kube, [first], pods, oom_memory_ceiling="8Gi")
    assert [made for made in api.created if made["kind"] == "Job"] == []
    failure = status["failure"]
    assert (status["phase"], failure["reason"], failure["exitCode"]) == ("Failed", "OOMKilled", 137)
    assert "VIDEOJOB_OOM_MEMORY_CEILING=8Gi" in failure["message"], failure["message"]
    assert "never retried" not in failure["message"]


def test_the_assembling_index_evicted_for_scratch_ends_the_fan_out_and_the_next_attempt_has_more(kube) -> None:
    """Index 0 drew its share and exited 0; index 1 (the one that joins) passed its sizeLimit."""
    running = _shares(kube, succeeded=1, failed=1)
    done = _index_pod(
        kube, running, 0, kube.terminated(0, "Completed"), finished="2026-11-21T10:01:30Z", phase="Succeeded"
    )
    evicted = _evicted(kube, running, 1, "2Gi", finished="2026-11-21T10:02:00Z")
    api, events, _ = _reconcile(kube, [running], [done, evicted])
    assert api.backoff_limits == [("team-a", running["metadata"]["name"], 0)]  # index 1 is not retried at 2Gi
    assert [made for made in api.created if made["kind"] == "Job"] == []

    ended = copy.deepcopy(running)
    ended["status"]["conditions"] = [kube.job_condition("Failed", "BackoffLimitExceeded")]
    api, events, status = _reconcile(kube, [ended], [done, evicted])
    (second,) = [made for made in api.created if made["kind"] == "Job"]
    assert (fanout.step(second), second["spec"]["completions"], second["spec"]["backoffLimitPerIndex"]) == (
        "shares",
        2,
        2,
    )
    template = second["spec"]["template"]["spec"]
    assert template["volumes"][0] == {"name": "scratch", "emptyDir": {"sizeLimit": "4096Mi"}}
    assert template["containers"][0]["resources"]["limits"]["memory"] == "1Gi"  # memory kept
    assert [(a["attempt"], a["scratch"], a["outcome"]) for a in status["attemptHistory"]] == [
        (1, "2Gi", "ScratchFull"),
        (2, "4096Mi", "Pending"),
    ]
    assert any(reason == "ScratchRaised" and "starts with 4096Mi" in text for _, reason, text in events)


def test_an_index_evicted_then_the_other_killed_while_it_stops_grows_what_ran_out_first(kube) -> None:
    """The eviction ended the attempt: the kill came while the Job controller stopped the other index."""
    ended = _shares(kube, failed=2, failed_by="BackoffLimitExceeded")
    evicted = _evicted(kube, ended, 0, "2Gi", finished="2026-11-21T10:02:00Z")
    killed = _index_pod(kube, ended, 1, kube.terminated(137, "OOMKilled"), finished="2026-11-21T10:02:04Z")
    api, _, status = _reconcile(kube, [ended], [killed, evicted])
    (second,) = [made for made in api.created if made["kind"] == "Job"]
    assert second["spec"]["template"]["spec"]["volumes"][0]["emptyDir"]["sizeLimit"] == "4096Mi"
    assert status["attemptHistory"][0]["outcome"] == "ScratchFull"


def test_bad_input_in_one_index_fails_with_the_renderers_words_not_the_stopped_index_exit(kube) -> None:
    failed = _shares(kube, failed=2, failed_by="PodFailurePolicy")
    message = kube.failure_message("InvalidStoryboard", "scenes.3.visual: unknown template 'chart'")
    refused = _index_pod(
        kube, failed, 0, kube.terminated(65, "Error", message=message), finished="2026-11-21T10:01:00Z"
    )
    stopped = _index_pod(kube, failed, 1, kube.terminated(143), finished="2026-11-21T10:01:02Z", stopped=True)
    for condition in failed["status"]["conditions"]:
        condition["message"] = _fail_job_message(refused, 65, 0)
    api, _, status = _reconcile(kube, [failed], [refused, stopped])
    assert [made for made in api.created if made["kind"] == "Job"] == []
    failure = status["failure"]
    assert (failure["reason"], failure["exitCode"]) == ("InvalidStoryboard", 65), failure
    assert "unknown template 'chart'" in failure["message"] and "never retried" in failure["message"]


def test_an_index_out_of_retries_is_the_one_the_failure_speaks_of(kube) -> None:
    """backoffLimitPerIndex spent on index 0 (reason FailedIndexes); index 1 was stopped after it."""
    failed = _shares(kube, failed=4, failed_by="FailedIndexes")
    failed["status"]["failedIndexes"] = "0"
    message = kube.failure_message("UploadFailed", "storing scene 2 in the cache: connection refused")
    tries = [
        _index_pod(kube, failed, 0, kube.terminated(75, "Error", message=message), finished=f"2026-11-21T10:0{n}:00Z")
        for n in range(1, 4)
    ]
    for n, pod in enumerate(tries):
        pod["metadata"]["name"] += str(n)
    stopped = _index_pod(kube, failed, 1, kube.terminated(143), finished="2026-11-21T10:03:02Z", stopped=True)
    _, _, status = _reconcile(kube, [failed], [*tries, stopped])
    failure = status["failure"]
    assert (failure["reason"], failure["exitCode"]) == ("UploadFailed", 75), failure
    assert "connection refused" in failure["message"]


def test_an_index_out_of_tries_counts_its_own_tries_not_every_indexs(kube):
    failure = kube.failure_message("UploadFailed", "S3 answered 503 for every part")
    job = _shares(kube, failed_by="FailedIndexes", message="Job has failed indexes", failed=5)
    job["status"]["failedIndexes"] = "1"
    tries = [_index_pod(kube, job, 1, kube.terminated(75, message=failure), finished=_ago(90 - 20 * n))
             for n in range(3)]  # fmt: skip
    others = [_index_pod(kube, job, 0, kube.terminated(75, message=failure), finished=_ago(60)),
              _index_pod(kube, job, 0, kube.terminated(143), finished=_ago(5), stopped=True)]  # fmt: skip
    pods = tries + others
    for n, pod in enumerate(pods):
        pod["metadata"]["name"] += str(n)
        pod["metadata"]["uid"] += str(n)

    diagnosis = failures.failed_diagnosis(_videojob(kube), job, pods)

    assert diagnosis.reason == "UploadFailed"
    assert "The renderer failed 3 time(s) (spec.retries=2)" in diagnosis.message  # index 1's three, not five
