"""Memory that grows after an OOM kill, on the real node: the kernel kills, the kubelet reports, the operator grows.

Nothing is played here: the renderer image runs under the kubelet and containerd with the
memory limits the operator's builder sets, the kernel's OOM killer ends an attempt that has
too little, and the operator starts the next attempt with more memory (VIDEOJOB_OOM_MEMORY_FACTOR)
up to its ceiling (VIDEOJOB_OOM_MEMORY_CEILING).

Every render here speaks with espeak-ng, so that its memory is the drawing's (see ESPEAK below). Each
limit is far (60 MiB or more, mostly over 100) from what the render needs on either side, so that a
renderer some tens of MiB lighter or heavier still gets killed where the test needs a kill and
finishes where it needs a video. The needs were measured in Pods on this node (low quality, one CPU:
the limits at which a lecture was OOMKilled or finished; see the lectures' comments).
"""

from __future__ import annotations

import contextlib
import json

from support import videojob_manifest, wait_for

MiB = 2**20
TOO_LITTLE = "128Mi"  # the first attempt, the least spec.resources may ask for: the lecture needs over 340Mi
FACTOR = "4"
GROWN = "512Mi"  # the second attempt: the lecture finished at 384Mi (peak 414 MiB with 1Gi to spare)
SMALLEST = "128Mi"  # the least spec.resources may ask for
# espeak-ng, not Piper, narrates: Piper's own process peaks while it speaks (341-343 MiB measured), above what
# drawing a light scene needs, so with Piper the kill (or not) would come in the narration, before any scene is
# finished. espeak-ng is a small program, and a render's peak is then the drawing of its heaviest scene.
ESPEAK = {"provider": "espeak"}
# Glyphs are what a scene's memory grows with: 99 nine-letter terms of W (a line may break before each +) are 989
# drawn glyphs, just under LATEX_GLYPHS_MAX and LATEX_MAX_CHARS. This lecture was OOMKilled at 300Mi and 340Mi and
# finished at 384Mi (peak 414 MiB at 1Gi, 383-503 MiB at 512Mi: page cache fills what is left); a title alone, 228 MiB.
HEAVY_EQUATION = "+".join(["W" * 9] * 99)
LECTURE = (
    f"# Memory\n\nA render that first gets too little memory, then enough.\n\n## An equation\n\n$${HEAVY_EQUATION}$$\n"
)


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


def test_a_render_killed_for_memory_comes_back_bigger_and_succeeds(kube_cluster, namespace, node_operator):
    operator = node_operator(VIDEOJOB_OOM_MEMORY_FACTOR=FACTOR, VIDEOJOB_OOM_MEMORY_CEILING="1Gi")
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
        (2, GROWN, "Succeeded"),  # 4 x 128Mi, under the 1Gi ceiling
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
    assert 128 * MiB < peak <= 512 * MiB, peak
    assert status["usage"]["cpuSeconds"] > 0
    raised = [e for e in _events(kube_cluster, namespace, "grows") if e["reason"] == "MemoryRaised"]
    assert raised and f"starts with {GROWN}" in raised[0]["message"], raised
    print(f"attempt 1 killed at {TOO_LITTLE}; attempt 2 at {GROWN} peaked at {peak / MiB:.0f} MiB, cpu "
          f"{status['usage']['cpuSeconds']} s")  # fmt: skip


def test_a_render_that_needs_more_than_the_ceiling_fails_saying_so(kube_cluster, namespace, node_operator):
    # The smallest limit a VideoJob may ask for (spec.resources) is the ceiling: no attempt can grow.
    operator = node_operator(VIDEOJOB_OOM_MEMORY_FACTOR="1.5", VIDEOJOB_OOM_MEMORY_CEILING=SMALLEST)
    manifest = videojob_manifest(
        "too-big",
        # Not a scene the cache holds: a render from the cache alone needs no Manim and fits in 128Mi.
        source={"markdown": LECTURE.replace("then enough", "and no more").replace("An equation", "The same equation")},
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


# A code listing is the heaviest scene a lecture can hold: its 20 rows of 78 characters (CODE_MAX_LINES, within
# CODE_MAX_COLUMNS) are 1,560 glyphs of DejaVu Sans Mono, and % has the most outline points of the characters tried
# (180; & 168, W 56). That is twice the outline points of an equation at LATEX_GLYPHS_MAX (99 terms of 9 W's, 1000
# characters), and it adds 1.7 times the memory to a render (268 MiB over the light scenes, the equation 158).
HEAVY_LISTING = "\n".join(["%" * 78] * 20)
TWO_WEIGHTS = f"""# Memory

## A light scene

- One idea
- Another idea

This scene has the longest narration, so it is drawn first, while the heavy one waits its turn.

## A heavy scene

```text
{HEAVY_LISTING}
```
"""
# Measured in Pods on this node, one CPU, with espeak, each lecture unique (no scene from a cache): the title and
# light scene finished at 240Mi, 256Mi, 288Mi and 320Mi, peaking at 194-205 MiB below 1Gi (256 MiB at 1Gi, page cache
# kept); with the listing OOMKilled at 384Mi and 416Mi, finished at 448Mi and 480Mi (peak 448 and 429 MiB).
BETWEEN = "300Mi"  # 60 MiB above where the light scenes finished (about 95 above their peak), 116 below the listing
REUSE_FACTOR = "3"
REUSED_GROWN = "900Mi"  # the second attempt: twice what the listing needs (it finished at 448Mi)


def test_the_bigger_attempt_reuses_the_scenes_the_killed_one_finished(kube_cluster, namespace, node_operator):
    operator = node_operator(VIDEOJOB_OOM_MEMORY_FACTOR=REUSE_FACTOR, VIDEOJOB_OOM_MEMORY_CEILING="2Gi")
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
        (REUSED_GROWN, "Succeeded"),
    ]
    usage = status["usage"]
    peak = usage["peakMemoryBytes"]
    print(
        f"attempt 1 killed at {BETWEEN}; attempt 2 at {REUSED_GROWN}: {usage.get('scenesCached')} scenes from the "
        f"cache, {usage.get('scenesRendered')} drawn, peak {peak / MiB:.0f} MiB"
    )
    assert usage.get("scenesCached", 0) >= 1 and usage["scenesRendered"] >= 1, usage  # the light ones, kept
    # The heavy scene is what the first attempt had too little for, and the second plenty.
    assert 300 * MiB < peak < 900 * MiB, peak
