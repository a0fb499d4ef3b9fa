"""Real jobs through the real operator, scraped by a real Prometheus: every dashboard panel has data.

The renderer is the operator tier's stand-in (it binds the Pod, patches its status, prints
progress lines through a stand-in kubelet and writes the termination message); everything
else is real: API server, Job controller, the operator as a subprocess, Prometheus 2.42.
Panels are evaluated the way Grafana asks: time series as range queries over the test's
span, stats as instant queries, with Grafana's ``$__rate_interval`` and ``$__range``
replaced by fixed windows that cover the test.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
import urllib.request
from typing import Any

import pytest

from videojob.contract import (
    Failure,
    ProgressEvent,
    Result,
    StoredOutput,
    Usage,
    encode_progress,
    encode_termination_message,
)
from videojob_devenv.chartfiles import RULES_FILE
from videojob_devenv.dashboards import DASHBOARDS
from videojob_devenv.processes import free_port, wait_for
from videojob_devenv.prometheus import GATEWAY, OPERATOR

pytestmark = pytest.mark.cluster

OPERATOR_DASHBOARDS = ("overview", "renders", "operator")
STAGES = (
    ("Scripting", 5, "Writing the storyboard"),
    ("Rendering", 40, "Rendering scene 1/2"),
    ("Rendering", 70, "Rendering scene 2/2"),
    ("Assembling", 90, "Assembling the video"),
    ("Uploading", 97, "Uploading video.mp4"),
)


def _result(cluster: Any, name: str, seconds: float) -> Result:
    return Result(
        output=StoredOutput(
            bucket="videos",
            key=f"outputs/{cluster.namespace}/{name}/video.mp4",
            size_bytes=3_000_000,
            sha256="c" * 64,
            duration_seconds=seconds,
        ),
        usage=Usage(
            cpuSeconds=seconds * 4,
            peakMemoryBytes=(300 + round(seconds)) * 2**20,
            scenesRendered=2,
            scenesCached=1,
            ttsCharacters=800,
            llmPromptTokens=120,
            llmCompletionTokens=900,
        ),
    )


def _render(cluster: Any, kubelet: Any, name: str, pod: dict[str, Any], seconds: float) -> None:
    """The stand-in renderer: progress through every stage, then a result."""
    cluster.run_pod(pod)
    for phase, percent, stage in STAGES:
        kubelet.say(
            cluster.namespace,
            pod["metadata"]["name"],
            encode_progress(ProgressEvent(phase=phase, progress=percent, stage=stage, etaSeconds=10)),
        )
        cluster.wait_status(name, lambda s, stage=stage: s.get("stage") == stage, stage, 20)
        time.sleep(0.3)  # stages that take a moment, as real ones do
    cluster.finish_pod(pod, 0, "Completed", encode_termination_message(_result(cluster, name, seconds)))


def _phase(cluster: Any, name: str, phase: str) -> dict[str, Any]:
    return cluster.wait_status(name, lambda s: s.get("phase") == phase, f"phase {phase}", 60)


def _finite(result: list[dict[str, Any]]) -> bool:
    values = [float(v) for series in result for _, v in (series.get("values") or [series["value"]])]
    return any(math.isfinite(v) for v in values)


def _panels_without_data(prometheus: Any, began: float, names: tuple[str, ...]) -> tuple[int, dict[str, str]]:
    """How many panel queries were evaluated, and those that returned no finite value (by panel)."""
    span = f"{int(time.time() - began) + 120}s"
    empty, evaluated = {}, 0
    for name in names:
        for panel in DASHBOARDS[name]().panels:
            for target in panel.targets:
                expr = target.expr.replace("$__rate_interval", "1m").replace("$__range", span)
                if panel.type == "stat":
                    result = prometheus.query(expr)
                else:
                    result = prometheus.api(
                        "query_range", query=expr, start=str(began - 60), end=str(time.time()), step="2"
                    )["result"]
                evaluated += 1
                if not _finite(result):
                    empty[f"{name} / {panel.title} / {target.refId}"] = expr
    return evaluated, empty


def test_every_operator_panel_has_data_after_successes_retries_and_failures(
    cluster, start_operator, fake_kubelet, prometheus_server
) -> None:
    port = free_port()
    # One OOM kill makes a bigger attempt (1Gi -> 1536Mi, the ceiling); a second one is final.
    start_operator(
        VIDEOJOB_METRICS_PORT=str(port), VIDEOJOB_OOM_MEMORY_FACTOR="1.5", VIDEOJOB_OOM_MEMORY_CEILING="1536Mi"
    )
    prometheus_server.reconfigure({OPERATOR: [f"127.0.0.1:{port}"]}, rule_files=[RULES_FILE])
    prometheus_server.wait_scraped(OPERATOR)
    [up] = prometheus_server.query("up")
    assert (up["metric"]["job"], up["metric"]["endpoint"], up["value"][1]) == ("videojob-operator", "metrics", "1")
    began = time.time()

    # Two videos rendered through every stage, at two qualities.
    for name, quality, seconds in (("intro", "low", 42.0), ("deep-dive", "medium", 95.0)):
        cluster.videojob(name, quality=quality)
        _render(cluster, fake_kubelet, name, cluster.wait_new_pod(cluster.wait_job(name)), seconds)
        _phase(cluster, name, "Succeeded")
    # One that fails once and succeeds on its retry.
    cluster.videojob("flaky", retries=1)
    job = cluster.wait_job("flaky")
    cluster.fail(cluster.wait_new_pod(job), 75)
    _render(cluster, fake_kubelet, "flaky", cluster.wait_new_pod(job, seen=1), 30.0)
    _phase(cluster, "flaky", "Succeeded")
    # Failures of three reasons: out of memory (after an OOM retry with more memory), S3 refusing the upload,
    # and a bad storyboard.
    cluster.videojob("too-big", retries=0, quality="low")  # 1Gi
    first = cluster.wait_job("too-big")
    cluster.fail(cluster.wait_new_pod(first), 137, "OOMKilled")
    second = wait_for(
        lambda: next((j for j in cluster.jobs("too-big") if j["metadata"]["uid"] != first["metadata"]["uid"]), None),
        30,
        "attempt 2 of too-big, with more memory",
    )
    cluster.fail(cluster.wait_new_pod(second), 137, "OOMKilled")
    cluster.videojob("no-upload", retries=0)
    cluster.fail(
        cluster.wait_new_pod(cluster.wait_job("no-upload")),
        75,
        failure=Failure(reason="UploadFailed", message="S3 answered 503 Slow Down"),
    )
    cluster.videojob("bad-board", retries=0)
    cluster.fail(
        cluster.wait_new_pod(cluster.wait_job("bad-board")),
        65,
        failure=Failure(reason="InvalidStoryboard", message="scene 2: unknown template 'hologram'"),
    )
    for name in ("too-big", "no-upload", "bad-board"):
        _phase(cluster, name, "Failed")

    finished = f'sum(videojob_phase_transitions_total{{job="{OPERATOR.job}", phase=~"Succeeded|Failed"}})'
    wait_for(
        lambda: [s for s in prometheus_server.query(finished) if float(s["value"][1]) >= 6],
        30,
        "Prometheus to scrape all six finished VideoJobs",
        interval=0.5,
    )
    time.sleep(3)  # a few more scrapes, so that every rate() window holds the last increase twice

    by_reason = {
        s["metric"]["reason"]: float(s["value"][1])
        for s in prometheus_server.query(f'videojob_failures_total{{job="{OPERATOR.job}"}} > 0')
    }
    assert by_reason == {"OOMKilled": 1, "UploadFailed": 1, "InvalidStoryboard": 1}
    retries = prometheus_server.query(f'videojob_render_retries_total{{job="{OPERATOR.job}"}}')
    assert float(retries[0]["value"][1]) == 2  # flaky's second Pod, too-big's second attempt
    oom_retries = prometheus_server.query(f'videojob_oom_retries_total{{job="{OPERATOR.job}"}} > 0')
    assert [(s["metric"]["quality"], float(s["value"][1])) for s in oom_retries] == [("low", 1)]
    attempt_retries = prometheus_server.query(f'videojob_attempt_retries_total{{job="{OPERATOR.job}"}} > 0')
    assert [(s["metric"]["reason"], s["metric"]["quality"], float(s["value"][1])) for s in attempt_retries] == [
        ("OOMKilled", "low", 1)  # the same bigger attempt, by what the first ran out of
    ]
    peaks = prometheus_server.query(f'sum(videojob_render_peak_memory_bytes_count{{job="{OPERATOR.job}"}})')
    assert float(peaks[0]["value"][1]) == 3  # one per successful render
    video = prometheus_server.query(f'sum(videojob_rendered_video_seconds_total{{job="{OPERATOR.job}"}})')
    assert float(video[0]["value"][1]) == 42 + 95 + 30

    targets = sum(len(panel.targets) for name in OPERATOR_DASHBOARDS for panel in DASHBOARDS[name]().panels)
    assert _panels_without_data(prometheus_server, began, OPERATOR_DASHBOARDS) == (targets, {})

    # The chart's rules, on the real series: a failed upload pages at once; nothing else fires (two platform
    # failures are too few for the failure ratio; the operator is up and reconciling).
    assert wait_for(lambda: prometheus_server.firing() or None, 30, "an alert to fire") == {"VideoJobUploadsFailing"}

    page = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
    checked = subprocess.run(["promtool", "check", "metrics"], input=page, capture_output=True)
    assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()


@pytest.fixture
def tenant_key(kube_cluster: Any, gateway_kubeconfig: Any, cluster: Any) -> str:
    """A tenant made by the documented command, without its ResourceQuota: the quota controller takes
    minutes to start counting a CRD this new, and quotas are not what these panels are about."""
    made = subprocess.run(
        [sys.executable, "-P", "-m", "videojob.api", "create-tenant", cluster.namespace],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | {"KUBECONFIG": str(kube_cluster.kubeconfig), "PYTHONSAFEPATH": "1"},
    )
    assert made.returncode == 0, made.stderr
    kube_cluster.kubectl("delete", "resourcequota", "--all", "-n", cluster.namespace)
    return made.stdout.strip()


@pytest.mark.minio  # the gateway presigns downloads against it
def test_every_gateway_panel_has_data_after_created_refused_and_missing_videos(
    tenant_key, start_gateway, prometheus_server
) -> None:
    key = tenant_key
    gateway = start_gateway(rate_burst="3", rate_per_minute="1")
    prometheus_server.reconfigure({GATEWAY: [gateway.url.removeprefix("http://")]})
    prometheus_server.wait_scraped(GATEWAY)
    began = time.time()

    api = gateway.client(key)
    lectures = [{"markdown": f"# Lesson {i}\n\nA short lecture.\n", "quality": "low"} for i in range(5)]
    statuses = [api.post("/v1/videos", json=lecture).status_code for lecture in lectures]
    assert statuses == [202, 202, 202, 429, 429]  # a burst of 3, then the rate limit
    listed = api.get("/v1/videos")
    assert listed.status_code == 200 and len(listed.json()["data"]) == 3
    assert api.get("/v1/videos/no-such-video").status_code == 404
    assert gateway.client().get("/v1/videos").status_code == 401

    refused = f'sum(videojob_gateway_rate_limited_total{{job="{GATEWAY.job}"}})'
    wait_for(
        lambda: [s for s in prometheus_server.query(refused) if float(s["value"][1]) >= 2],
        30,
        "Prometheus to scrape the two rate-limited creations",
        interval=0.5,
    )
    time.sleep(3)

    targets = sum(len(panel.targets) for panel in DASHBOARDS["gateway"]().panels)
    assert _panels_without_data(prometheus_server, began, ("gateway",)) == (targets, {})

    page = urllib.request.urlopen(f"{gateway.url}/metrics", timeout=10).read()
    checked = subprocess.run(["promtool", "check", "metrics"], input=page, capture_output=True)
    assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()
