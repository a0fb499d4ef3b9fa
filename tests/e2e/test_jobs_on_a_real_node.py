"""batch/v1 Jobs driven by the real Job controller and run by the real kubelet."""

from __future__ import annotations

import json

from support import wait_for


def job_manifest(name: str, image: str, exit_code: int, pods) -> dict:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {"backoffLimit": 2, "template": {"spec": pods.pod_spec(image, ["sh", "-c", f"exit {exit_code}"])}},
    }


def job_condition(pods, name: str) -> str | None:
    conditions = pods.get("job", name)["status"].get("conditions", [])
    return next((c["type"] for c in conditions if c["type"] in ("Complete", "Failed") and c["status"] == "True"), None)


def job_pods(pods, name: str) -> list[dict]:
    listed = pods.kubectl("get", "pods", "-l", f"job-name={name}", "-o", "json").stdout
    return json.loads(listed)["items"]


def test_a_job_whose_container_exits_1_runs_three_pods_then_fails(pods, base_image):
    pods.apply(job_manifest("always-fails", base_image.ref, 1, pods))

    # The Job controller backs off 10s, then 20s, between attempts.
    condition = wait_for(
        lambda: job_condition(pods, "always-fails"), 180, interval=1, what="job always-fails to finish"
    )

    assert condition == "Failed"
    assert pods.get("job", "always-fails")["status"]["failed"] == 3
    attempts = job_pods(pods, "always-fails")
    assert len(attempts) == 3
    assert {pod["status"]["phase"] for pod in attempts} == {"Failed"}


def test_a_job_whose_container_exits_0_completes(pods, base_image):
    pods.apply(job_manifest("succeeds", base_image.ref, 0, pods))

    condition = wait_for(lambda: job_condition(pods, "succeeds"), 120, interval=0.5, what="job succeeds to finish")

    assert condition == "Complete"
    assert pods.get("job", "succeeds")["status"]["succeeded"] == 1
    assert len(job_pods(pods, "succeeds")) == 1
