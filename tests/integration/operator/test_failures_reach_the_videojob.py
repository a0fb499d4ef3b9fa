"""Each way a render can fail shows on the VideoJob with a reason and a message saying what to do.

The real Job controller turns the Pod statuses the stand-in renderer writes into Job
conditions (podFailurePolicy, backoffLimit, activeDeadlineSeconds); the operator maps them.
"""

from __future__ import annotations

import json

import pytest

from videojob.contract import Failure

pytestmark = pytest.mark.cluster


def _failed(cluster, name, timeout=30):
    return cluster.wait_status(name, lambda s: s.get("phase") == "Failed", "phase Failed", timeout)


def test_oom_killed_comes_back_bigger_then_fails_at_the_ceiling_saying_what_to_set(cluster, start_operator, helpers):
    start_operator(VIDEOJOB_OOM_MEMORY_FACTOR="1.5", VIDEOJOB_OOM_MEMORY_CEILING="1536Mi")
    cluster.videojob("big", retries=3, quality="low")  # 1Gi
    first = cluster.wait_job("big")
    cluster.fail(cluster.wait_new_pod(first), 137, "OOMKilled")

    # The Job controller fails attempt 1 at once (podFailurePolicy on 137), with no retry at 1Gi ...
    failed = helpers.wait_for(
        lambda: [
            c["reason"]
            for c in cluster.get("job", first["metadata"]["name"])["status"].get("conditions") or []
            if c["type"] == "Failed"
        ],
        30,
        "attempt 1 to fail",
    )
    assert failed == ["PodFailurePolicy"] and len(cluster.pods(first)) == 1
    # ... and the operator makes attempt 2 with 1.5 times the memory.
    second = helpers.wait_for(
        lambda: next((j for j in cluster.jobs("big") if j["metadata"]["name"].endswith("-2")), None),
        30,
        "attempt 2 of big",
    )
    assert second["metadata"]["labels"]["videojob.dev/attempt"] == "2"
    resources = second["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources["limits"]["memory"] == resources["requests"]["memory"] == "1536Mi"
    status = cluster.wait_status("big", lambda s: len(s.get("attemptHistory") or []) == 2, "two attempts shown")
    assert [(a["attempt"], a["memory"]) for a in status["attemptHistory"]] == [(1, "1Gi"), (2, "1536Mi")]
    assert status["attemptHistory"][0]["outcome"] == "OOMKilled"
    assert status["attemptHistory"][1]["outcome"] in ("Pending", "Running")  # Running once its Pod exists
    # Queued while the scheduler has not placed the bigger Pod (here no node ever does: the test binds it)
    assert status["phase"] in ("Pending", "Queued") and "attempt 1 ran out of memory at 1Gi" in status["stage"]
    helpers.wait_for(
        lambda: [e for e in cluster.events("big") if e["reason"] == "MemoryRaised" and "1536Mi" in e["message"]],
        10,
        "a MemoryRaised event",
    )

    # Killed again at the ceiling: no attempt 3, and the message says which setting to raise.
    cluster.fail(cluster.wait_new_pod(second), 137, "OOMKilled")
    status = _failed(cluster, "big")
    assert status["failure"]["reason"] == "OOMKilled"
    assert "the operator's ceiling VIDEOJOB_OOM_MEMORY_CEILING=1536Mi" in status["failure"]["message"]
    assert "1Gi -> 1536Mi" in status["failure"]["message"]
    assert helpers.conditions(status)["Failed"] == ("True", "OOMKilled")
    assert len(cluster.jobs("big")) == 2
    waited = cluster.kubectl("wait", "--for=condition=Failed", "vj/big", "--timeout=10s", check=False)
    assert waited.returncode == 0, waited.stderr
    warnings = helpers.wait_for(
        lambda: [e for e in cluster.events("big") if e["type"] == "Warning" and e["reason"] == "OOMKilled"],
        10,
        "a Warning event",
    )
    assert "VIDEOJOB_OOM_MEMORY_CEILING" in warnings[0]["message"]


def test_bad_storyboard_fails_at_once_without_retries(cluster, start_operator):
    start_operator()
    cluster.videojob("bad", retries=5)
    job = cluster.wait_job("bad")
    pod = cluster.wait_new_pod(job)
    cluster.fail(pod, 65, failure=Failure(reason="InvalidStoryboard", message="scene 2: unknown template 'hologram'"))

    status = _failed(cluster, "bad")
    assert status["failure"]["reason"] == "InvalidStoryboard"
    assert status["failure"]["message"].startswith("scene 2: unknown template 'hologram'. Bad input is never retried")
    assert status["attempts"] == 1
    job = cluster.get("job", job["metadata"]["name"])
    assert [c["reason"] for c in job["status"]["conditions"] if c["type"] == "Failed"] == ["PodFailurePolicy"]
    assert len(cluster.pods(job)) == 1


def test_retries_used_up_report_the_last_exit(cluster, start_operator):
    start_operator()
    cluster.videojob("flaky", retries=1)
    job = cluster.wait_job("flaky")
    cluster.fail(cluster.wait_new_pod(job), 75)
    cluster.wait_status(
        "flaky", lambda s: s.get("attempts") == 2 or "attempt 2" in s.get("stage", ""), "the second attempt", 40
    )
    cluster.fail(cluster.wait_new_pod(job, seen=1), 139, "Error")

    status = _failed(cluster, "flaky")
    assert status["failure"]["reason"] == "BackoffLimitExceeded"
    assert (
        "failed 2 time(s), using up spec.retries=1; last exit: Error with exit code 139" in status["failure"]["message"]
    )
    assert status["failure"]["exitCode"] == 139 and status["attempts"] == 2


def test_a_renderer_failure_reason_survives_the_retries(cluster, start_operator):
    start_operator()
    cluster.videojob("offline-llm", retries=0)
    pod = cluster.wait_new_pod(cluster.wait_job("offline-llm"))
    cluster.fail(pod, 75, failure=Failure(reason="UploadFailed", message="S3 answered 503 Slow Down"))
    status = _failed(cluster, "offline-llm")
    assert status["failure"]["reason"] == "UploadFailed" and "503 Slow Down" in status["failure"]["message"]


def test_deadline_exceeded_names_the_deadline(cluster, start_operator):
    start_operator()
    cluster.videojob("slow", activeDeadlineSeconds=60)
    job = cluster.wait_job("slow")
    cluster.run_pod(cluster.wait_new_pod(job))
    # Waiting a real minute would only slow the suite: shorten the Job's own deadline, as a stuck render would hit it.
    cluster.kubectl(
        "patch",
        "job",
        job["metadata"]["name"],
        "--type=merge",
        "-p",
        json.dumps({"spec": {"activeDeadlineSeconds": 1}}),
    )

    status = _failed(cluster, "slow")
    assert status["failure"]["reason"] == "DeadlineExceeded"
    assert "spec.activeDeadlineSeconds (60 s)" in status["failure"]["message"]


def test_image_pull_back_off_is_reported_while_kubernetes_keeps_trying(cluster, start_operator, helpers):
    start_operator()
    cluster.videojob("noimage")
    pod = cluster.wait_new_pod(cluster.wait_job("noimage"))
    cluster.bind(pod)
    cluster.set_pod_status(
        pod,
        "Pending",
        {
            "waiting": {
                "reason": "ImagePullBackOff",
                "message": 'Back-off pulling image "localhost/videojob-renderer:test"',
            }
        },
    )
    status = cluster.wait_status(
        "noimage", lambda s: (s.get("failure") or {}).get("reason") == "ImagePullBackOff", "ImagePullBackOff"
    )
    assert status["phase"] == "Pending"
    assert "VIDEOJOB_RENDERER_IMAGE" in status["failure"]["message"]
    assert helpers.conditions(status)["Progressing"] == ("False", "ImagePullBackOff")


def test_unschedulable_render_is_queued_with_the_schedulers_message(cluster, start_operator, helpers):
    start_operator()
    cluster.videojob("huge", resources={"requests": {"cpu": "48", "memory": "200Gi"}})
    # No node can take it: the real scheduler says why, and the VideoJob shows it.
    status = cluster.wait_status(
        "huge",
        lambda s: s.get("stage", "").startswith("Unschedulable: 0/1 nodes are available"),
        "the scheduler's message",
        40,
    )
    assert status["phase"] == "Queued"
    assert helpers.conditions(status)["Progressing"] == ("False", "Unschedulable")
    assert "failure" not in status
