"""Suspend and resume, deletion cascading through owner references, and the render queue's order."""

from __future__ import annotations

import json
import secrets
import time

import pytest

pytestmark = pytest.mark.cluster


def _patch_spec(cluster, name, **spec):
    cluster.kubectl("patch", "vj", name, "--type=merge", "-p", json.dumps({"spec": spec}))


def test_suspend_stops_the_render_and_resume_starts_it_again(cluster, start_operator, helpers):
    start_operator()
    cluster.videojob("pausable")
    job = cluster.wait_job("pausable")
    first_pod = cluster.wait_new_pod(job)

    _patch_spec(cluster, "pausable", suspend=True)
    status = cluster.wait_status("pausable", lambda s: s.get("phase") == "Suspended", "phase Suspended")
    assert helpers.conditions(status)["Progressing"] == ("False", "SuspendedByUser")
    assert cluster.get("job", job["metadata"]["name"])["spec"]["suspend"] is True
    helpers.wait_for(lambda: not cluster.pods(job), 20, "the Job controller to remove the renderer Pod")

    _patch_spec(cluster, "pausable", suspend=False)
    cluster.wait_status("pausable", lambda s: s.get("phase") != "Suspended", "leaving Suspended")
    assert cluster.get("job", job["metadata"]["name"])["spec"]["suspend"] is False
    second_pod = cluster.wait_new_pod(job)
    assert second_pod["metadata"]["uid"] != first_pod["metadata"]["uid"]
    assert len(cluster.jobs("pausable")) == 1
    cluster.succeed(second_pod, "pausable")
    cluster.wait_status("pausable", lambda s: s.get("phase") == "Succeeded", "phase Succeeded")
    reasons = [e["reason"] for e in cluster.events("pausable")]
    assert "Suspended" in reasons


def test_deleting_the_videojob_removes_its_job_and_pods_within_5_seconds(
    cluster, start_operator, helpers, garbage_collector_knows_videojobs
):
    start_operator()
    cluster.videojob("doomed")
    job = cluster.wait_job("doomed")
    cluster.wait_new_pod(job)

    cluster.kubectl("delete", "vj", "doomed", "--wait=false")
    try:
        helpers.wait_for(
            lambda: (
                cluster.kubectl("get", "job", job["metadata"]["name"], check=False).returncode != 0
                and not cluster.pods(job)
            ),
            5,
            "the garbage collector to remove the Job and its Pods",
        )
    except TimeoutError:
        left = cluster.kubectl("get", "vj,jobs,pods,configmaps", "-o", "wide", check=False)
        raise AssertionError(f"still there after 5 s:\n{left.stdout}{left.stderr}") from None


def test_a_full_operator_queues_in_priority_then_creation_order(cluster, start_operator, helpers, kube_cluster):
    urgent_class = f"videojob-urgent-{secrets.token_hex(3)}"
    kube_cluster.kubectl("create", "priorityclass", urgent_class, "--value=1000")
    try:
        start_operator(VIDEOJOB_MAX_CONCURRENT_RENDERS="1")
        cluster.videojob("first")
        first_job = cluster.wait_job("first")
        for name in ("second", "third"):
            time.sleep(1.1)  # creationTimestamp has one-second resolution
            cluster.videojob(name)
        cluster.videojob("urgent", priorityClassName=urgent_class)

        cluster.wait_status("third", lambda s: s.get("queuePosition") == 3, "third at position 3")
        assert cluster.status("urgent")["stage"] == "Queued for a render slot: position 1 of 3"
        assert cluster.status("second")["queuePosition"] == 2
        assert all(not cluster.jobs(name) for name in ("second", "third", "urgent"))

        cluster.succeed(cluster.wait_new_pod(first_job), "first")
        urgent_job = cluster.wait_job("urgent")
        cluster.wait_status("second", lambda s: s.get("queuePosition") == 1, "second moving up to position 1")
        assert cluster.status("third")["stage"] == "Queued for a render slot: position 2 of 2"

        cluster.succeed(cluster.wait_new_pod(urgent_job), "urgent")
        cluster.wait_job("second")
        cluster.wait_status("third", lambda s: s.get("queuePosition") == 1, "third moving up to position 1")
        assert not cluster.jobs("third")
    finally:
        kube_cluster.kubectl("delete", "priorityclass", urgent_class, check=False)


def test_operator_killed_mid_job_creates_no_second_job_and_finishes(cluster, start_operator, helpers):
    operator = start_operator()
    cluster.videojob("sturdy")
    job = cluster.wait_job("sturdy")
    pod = cluster.wait_new_pod(job)
    cluster.run_pod(pod)
    cluster.wait_status("sturdy", lambda s: s.get("attempts") == 1, "the first attempt to show")

    operator.kill()
    cluster.videojob("born-while-down")
    operator = start_operator()
    cluster.wait_job("born-while-down")
    operator.kill()  # again, straight after it acted
    start_operator()

    cluster.succeed(pod, "sturdy")
    status = cluster.wait_status("sturdy", lambda s: s.get("phase") == "Succeeded", "phase Succeeded after restarts")
    assert status["output"]["sizeBytes"] == 2_345_678
    time.sleep(2)  # give a wrongly restarted reconcile the chance to create a duplicate
    assert [j["metadata"]["name"] for j in cluster.jobs("sturdy")] == [job["metadata"]["name"]]
    assert len(cluster.jobs("born-while-down")) == 1
