"""Memory that grows after an OOM kill, on the real node: the kernel kills, the kubelet reports, the operator grows.

Nothing is played here: the renderer image runs under the kubelet and containerd with the
memory limits the operator's builder sets, the kernel's OOM killer ends an attempt that has
too little, and the operator starts the next attempt with more memory (VIDEOJOB_OOM_MEMORY_FACTOR)
up to its ceiling (VIDEOJOB_OOM_MEMORY_CEILING).

Every render here speaks with espeak-ng, so that its memory is the drawing's (see ESPEAK below). The
sizes come from measuring the renderer in Pods on this node (low quality, one CPU, page cache of its
own files counted): a title and a bullet scene were OOMKilled at 200Mi and 240Mi and finished at
280Mi to 360Mi, peaking at 214-294 MiB. (With Piper narrating, a one-scene lecture now finishes at 256Mi.)
"""

from __future__ import annotations

import contextlib
import json

import pytest

from support import videojob_manifest, wait_for
from support.node_operator import start_node_operator

TOO_LITTLE = "160Mi"  # the first attempt: killed (200Mi was, 280Mi was enough)
FACTOR = "4"  # the second attempt: 640Mi, more than twice the largest peak measured (294 MiB)
GROWN = "640Mi"
SMALLEST = "128Mi"  # the least spec.resources may ask for
# espeak-ng, not Piper, narrates: Piper's own process peaks while it speaks (341-343 MiB measured), above what
# drawing a light scene needs, so with Piper the kill (or not) would come in the narration, before any scene is
# finished. espeak-ng is a small program, and a render's peak is then the drawing of its heaviest scene.
ESPEAK = {"provider": "espeak"}
LECTURE = "# Memory\n\nA render that first gets too little memory, then enough.\n"


def _status(kube_cluster, namespace: str, name: str) -> dict:
    return json.loads(kube_cluster.kubectl("get", "vj", name, "-n", namespace, "-o", "json").stdout).get("status") or {}


def _settled(status: dict) -> bool:
    # The phase turns Succeeded when the Pod has exited 0 and written its Result; the attempt's outcome
    # follows when the Job controller marks the Job complete, a moment later.
    unsettled = [a for a in status.get("attemptHistory") or () if a.get("outcome") in ("Running", "Pending")]
    return status.get("phase") in ("Succeeded", "Failed") and not unsettled


def _finish(kube_cluster, namespace: str, name: str, operator, timeout: float = 600) -> dict:
    with contextlib.suppress(TimeoutError):  # the assertion after says what was seen
        wait_for(
            lambda: _settled(_status(kube_cluster, namespace, name)),
            timeout,
            f"vj/{name} to finish",
            interval=0.5,
        )
    status = _status(kube_cluster, namespace, name)
    assert status.get("phase") in ("Succeeded", "Failed"), (
        f"status: {json.dumps(status, indent=1)}\noperator log tail:\n{operator.log_tail(60)}"
    )
    return status


def _events(kube_cluster, namespace: str, name: str) -> list[dict]:
    selector = f"involvedObject.kind=VideoJob,involvedObject.name={name}"
    listed = kube_cluster.kubectl("get", "events", "-n", namespace, "--field-selector", selector, "-o", "json")
    return json.loads(listed.stdout)["items"]


@pytest.fixture
def start_operator(kube_cluster, videojob_crd, namespace, node_minio, renderer_image, tmp_path):
    started = []

    def start(**settings: str):
        process = start_node_operator(
            kube_cluster, namespace, node_minio, renderer_image, tmp_path / "operator.log", **settings
        )
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def test_a_render_killed_for_memory_comes_back_bigger_and_succeeds(kube_cluster, namespace, start_operator):
    operator = start_operator(VIDEOJOB_OOM_MEMORY_FACTOR=FACTOR, VIDEOJOB_OOM_MEMORY_CEILING="1Gi")
    manifest = videojob_manifest(
        "grows",
        source={"markdown": LECTURE},
        voice=ESPEAK,
        retries=0,
        resources={"limits": {"memory": TOO_LITTLE}, "requests": {"memory": TOO_LITTLE}},
    )
    kube_cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(manifest))

    status = _finish(kube_cluster, namespace, "grows", operator)
    assert status["phase"] == "Succeeded", f"status: {json.dumps(status, indent=1)}\n{operator.log_tail(60)}"
    history = status["attemptHistory"]
    assert [(a["attempt"], a["memory"], a["outcome"]) for a in history] == [
        (1, TOO_LITTLE, "OOMKilled"),
        (2, GROWN, "Succeeded"),  # 4 x 160Mi, under the 1Gi ceiling
    ]
    assert status["jobName"] == history[1]["jobName"] and status["jobName"].endswith("-2")

    # The kubelet said OOMKilled about the first attempt's Pod: the kernel, not the test, killed it.
    pods = json.loads(
        kube_cluster.kubectl(
            "get", "pods", "-n", namespace, "-l", f"job-name={history[0]['jobName']}", "-o", "json"
        ).stdout
    )["items"]
    terminated = pods[0]["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["reason"], terminated["exitCode"]) == ("OOMKilled", 137)

    # The renderer's own measure: more than the first attempt had, within what the second had.
    peak = status["usage"]["peakMemoryBytes"]
    assert 160 * 2**20 < peak <= 640 * 2**20, peak
    assert status["usage"]["cpuSeconds"] > 0
    raised = [e for e in _events(kube_cluster, namespace, "grows") if e["reason"] == "MemoryRaised"]
    assert raised and f"starts with {GROWN}" in raised[0]["message"], raised
    print(f"renderer peak memory {peak / 2**20:.0f} MiB, cpu {status['usage']['cpuSeconds']} s")


def test_a_render_that_needs_more_than_the_ceiling_fails_saying_so(kube_cluster, namespace, start_operator):
    # The smallest limit a VideoJob may ask for (spec.resources) is the ceiling: no attempt can grow.
    operator = start_operator(VIDEOJOB_OOM_MEMORY_FACTOR="1.5", VIDEOJOB_OOM_MEMORY_CEILING=SMALLEST)
    manifest = videojob_manifest(
        "too-big",
        source={"markdown": LECTURE.replace("then enough", "and no more")},  # not a video the cache holds
        voice=ESPEAK,
        retries=0,
        resources={"limits": {"memory": SMALLEST}, "requests": {"memory": SMALLEST}},
    )
    kube_cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(manifest))

    status = _finish(kube_cluster, namespace, "too-big", operator)
    assert status["phase"] == "Failed", json.dumps(status, indent=1)
    message = status["failure"]["message"]
    assert status["failure"]["reason"] == "OOMKilled"
    assert f"VIDEOJOB_OOM_MEMORY_CEILING={SMALLEST}" in message and "needs more than the ceiling" in message, message
    uid = json.loads(kube_cluster.kubectl("get", "vj", "too-big", "-n", namespace, "-o", "json").stdout)["metadata"][
        "uid"
    ]
    jobs = json.loads(
        kube_cluster.kubectl("get", "jobs", "-n", namespace, "-l", f"videojob.dev/uid={uid}", "-o", "json").stdout
    )
    assert len(jobs["items"]) == 1  # no bigger attempt past the ceiling
    kube_cluster.kubectl("wait", "--for=condition=Failed", "vj/too-big", "-n", namespace, "--timeout=10s")


# Glyphs are what the heavy scene's memory grows with, and W is the letter with the most outline points (152 in
# TeX's math italic, a digit has 80): 891 of them in 99 nine-letter terms (a line may break before each +) make
# 989 drawn glyphs, just under LATEX_GLYPHS_MAX, about four times the outline points of a 90-term polynomial.
HEAVY_EQUATION = "+".join(["W" * 9] * 99)
TWO_WEIGHTS = f"""# Memory

## A light scene

- One idea
- Another idea

This scene has the longest narration, so it is drawn first, while the heavy one waits its turn.

## A heavy scene

$${HEAVY_EQUATION}$$
"""
# Measured in Pods on this node, one CPU, with espeak (each lecture made unique so no scene came from the cache):
# title + light scene OOMKilled at 200Mi and 240Mi, finished at 280Mi, 320Mi and 360Mi (peak 214-294 MiB, page
# cache counted); with the heavy scene OOMKilled at 340Mi, finished at 380Mi and 420Mi (peak 380-420 MiB) and
# at 2Gi (416 MiB). 310Mi sits in the middle of that gap, and the second attempt's 620Mi is far above 420 MiB.
BETWEEN = "310Mi"


def test_the_bigger_attempt_reuses_the_scenes_the_killed_one_finished(kube_cluster, namespace, start_operator):
    operator = start_operator(VIDEOJOB_OOM_MEMORY_FACTOR="2", VIDEOJOB_OOM_MEMORY_CEILING="2Gi")
    manifest = videojob_manifest(
        "reuses",
        source={"markdown": TWO_WEIGHTS},
        voice=ESPEAK,
        retries=0,
        resources={"limits": {"memory": BETWEEN}, "requests": {"memory": BETWEEN}},
    )
    kube_cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(manifest))

    status = _finish(kube_cluster, namespace, "reuses", operator)
    assert status["phase"] == "Succeeded", f"status: {json.dumps(status, indent=1)}\n{operator.log_tail(60)}"
    assert [(a["memory"], a["outcome"]) for a in status["attemptHistory"]] == [
        (BETWEEN, "OOMKilled"),
        ("620Mi", "Succeeded"),
    ]
    usage = status["usage"]
    print(
        f"attempt 2: {usage.get('scenesCached')} scenes from the cache, {usage.get('scenesRendered')} drawn, "
        f"peak {usage['peakMemoryBytes'] / 2**20:.0f} MiB"
    )
    assert usage.get("scenesCached", 0) >= 1 and usage["scenesRendered"] >= 1, usage  # the light ones, kept
