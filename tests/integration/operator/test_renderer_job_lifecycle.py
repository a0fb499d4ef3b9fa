"""Apply a VideoJob: the operator creates the expected renderer Job; the render succeeds; kubectl wait returns."""

from __future__ import annotations

import json
import urllib.request

import pytest

from videojob.operator.builders import build_renderer_job
from videojob.operator.settings import OperatorSettings
from videojob_devenv.processes import free_port

pytestmark = pytest.mark.cluster


def _contains(actual, expected, path="job"):
    """Every key the builder set is on the stored object with the same value (the server adds defaults)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), path
        for key, value in expected.items():
            assert key in actual, f"{path}.{key} is missing"
            _contains(actual[key], value, f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), path
        for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
            _contains(a, e, f"{path}[{index}]")
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


def test_applying_a_videojob_creates_the_renderer_job_the_builder_describes(cluster, start_operator, monkeypatch):
    start_operator()
    videojob = cluster.videojob(
        "lesson",
        quality="medium",
        retries=3,
        activeDeadlineSeconds=900,
        queueName="renders",
        resources={"limits": {"memory": "3Gi"}},
    )
    job = cluster.wait_job("lesson")

    monkeypatch.setenv("VIDEOJOB_RENDERER_IMAGE", "localhost/videojob-renderer:test")
    expected = build_renderer_job(videojob, OperatorSettings())
    _contains(job, {"metadata": expected["metadata"], "spec": expected["spec"]})
    assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "renders"
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"] == {
        "requests": {"cpu": "2", "memory": "2Gi"},
        "limits": {"cpu": "2", "memory": "3Gi"},
    }

    configmap = cluster.get("configmap", expected["spec"]["template"]["spec"]["volumes"][1]["configMap"]["name"])
    assert json.loads(configmap["data"]["spec.json"])["source"]["markdown"].startswith("# lesson")
    status = cluster.wait_status("lesson", lambda s: s.get("jobName") == job["metadata"]["name"], "jobName in status")
    assert status["observedGeneration"] == 1


def test_a_successful_render_reports_the_output_and_kubectl_wait_returns(cluster, start_operator, helpers):
    metrics_port = free_port()
    start_operator(VIDEOJOB_METRICS_PORT=str(metrics_port))
    cluster.videojob("lesson")
    job = cluster.wait_job("lesson")
    pod = cluster.wait_new_pod(job)
    cluster.run_pod(pod)
    status = cluster.wait_status(
        "lesson", lambda s: "waiting for its first progress event" in s.get("stage", ""), "a running renderer"
    )
    assert status["phase"] == "Pending" and status["attempts"] == 1

    result = cluster.succeed(pod, "lesson")
    # The Pod has just succeeded: the condition comes within seconds, so kubectl wait's own timeout is the bound.
    waited = cluster.kubectl("wait", "--for=condition=Succeeded", "vj/lesson", "--timeout=10s", check=False)
    assert waited.returncode == 0, waited.stderr

    status = cluster.status("lesson")
    assert status["phase"] == "Succeeded" and status["progress"] == 100
    assert status["output"]["url"] == f"s3://videos/{result.output.key}"
    assert status["output"]["sizeBytes"] == 2_345_678 and status["output"]["durationSeconds"] == 58.0
    assert status["usage"]["ttsCharacters"] == 900
    assert status["completionTime"] and status["startTime"]
    assert helpers.conditions(status) == {
        "Accepted": ("True", "SpecAccepted"),
        "Progressing": ("False", "RenderSucceeded"),
        "Succeeded": ("True", "RenderSucceeded"),
        "Failed": ("False", "RenderSucceeded"),
    }
    row = cluster.kubectl("get", "vj", "lesson", "--no-headers").stdout.split()
    assert row[1:4] == ["Succeeded", "100", "low"] and row[-2:] == ["58", f"s3://videos/{result.output.key}"]
    reasons = helpers.wait_for(
        lambda: (
            {e["reason"] for e in cluster.events("lesson")} >= {"JobCreated", "Succeeded"}
            and {e["reason"] for e in cluster.events("lesson")}
        ),
        10,
        "events on the VideoJob",
    )
    assert "Pending" in reasons or "Queued" in reasons

    scraped = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).read().decode()
    assert "videojob_job_creation_seconds_count 1.0" in scraped
    assert 'videojob_phase_transitions_total{phase="Succeeded"} 1.0' in scraped
