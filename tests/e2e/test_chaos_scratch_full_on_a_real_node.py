"""Disk pressure on the real node: a render that writes past its scratch volume's sizeLimit.

Nothing is played: the operator gives the renderer's emptyDir a small sizeLimit (its quality
preset, VIDEOJOB_PRESETS), the real renderer writes its audio and scene clips there, and the
kubelet's eviction manager evicts the Pod (it measures Pod volumes every volumeStatsAggPeriod,
5 s on the local node, and checks every 10 s). The user sees ScratchFull and what to change,
not "failed 1 time(s) ... last exit: Error with exit code 143".

The kubelet stops the Pod with SIGTERM and no DisruptionTarget condition, so the Job counts an
ordinary failure and would retry spec.retries times at the same size; spec.retries is 0 here.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time

from support import videojob_manifest, wait_for
from support.node_operator import start_node_operator

from .test_chaos_on_a_real_node import Report, _print

TOO_SMALL = "512Ki"  # one scene's narration (about 20 s of 22 kHz audio) is already more
# Eight such scenes take the renderer a minute or more: time for the eviction manager to see it.
PARTS = 8
SENTENCE = "A render writes its narration, its scene clips and the video into the scratch volume"


def failure_exit(pod: dict) -> int | None:
    state = pod["status"]["containerStatuses"][0]["state"].get("terminated") or {}
    return state.get("exitCode")


def _status(kube_cluster, namespace: str, name: str) -> dict:
    return json.loads(kube_cluster.kubectl("get", "vj", name, "-n", namespace, "-o", "json").stdout).get("status") or {}


def test_a_render_past_its_scratch_size_limit_fails_as_scratch_full_saying_what_to_raise(
    kube_cluster, videojob_crd, namespace, node_minio, renderer_image, tmp_path
):
    operator = start_node_operator(
        kube_cluster,
        namespace,
        node_minio,
        renderer_image,
        tmp_path / "operator.log",
        VIDEOJOB_PRESETS=json.dumps({"low": {"scratch": TOO_SMALL}}),
    )
    token = secrets.token_hex(4)  # nothing from another test's scene cache
    lecture = f"# Disk {token}\n\nA lecture that fills its disk, {token}.\n" + "".join(
        f"\n## Part {n}\n\n" + f"{SENTENCE}, part {n}, {token}. " * 4 + "\n" for n in range(1, PARTS)
    )
    name = "scratch-full"
    kube_cluster.kubectl(
        "apply",
        "-n",
        namespace,
        "-f",
        "-",
        input=json.dumps(videojob_manifest(name, source={"markdown": lecture}, retries=0)),
    )
    created = time.monotonic()
    try:
        with contextlib.suppress(TimeoutError):  # the assertions say what was seen
            wait_for(
                lambda: _status(kube_cluster, namespace, name).get("phase") in ("Succeeded", "Failed"),
                300,
                f"vj/{name} to finish",
                interval=0.5,
            )
        status = _status(kube_cluster, namespace, name)
        pods = json.loads(
            kube_cluster.kubectl("get", "pods", "-n", namespace, "-l", f"videojob.dev/name={name}", "-o", "json").stdout
        )["items"]
        jobs = json.loads(
            kube_cluster.kubectl("get", "jobs", "-n", namespace, "-l", f"videojob.dev/name={name}", "-o", "json").stdout
        )["items"]
        report = Report(
            "scratch sizeLimit exceeded",
            faults=1,
            finished=int(status.get("phase") == "Failed"),
            lost=int(status.get("phase") != "Failed"),
            longest_recovery_s=time.monotonic() - created,  # here: from creation to the clear failure
        )
        _print(report, tmp_path)

        assert status.get("phase") == "Failed", (
            f"{json.dumps(status, indent=1)}\npods: {[p['status'] for p in pods]}\n{operator.log_tail(40)}"
        )
        # What the kubelet did, on the real node: evicted for the emptyDir, SIGTERM, no DisruptionTarget.
        evicted = [pod for pod in pods if pod["status"].get("reason") == "Evicted"]
        assert evicted, [pod["status"] for pod in pods]
        assert 'EmptyDir volume "scratch" exceeds the limit' in evicted[0]["status"]["message"]
        assert "DisruptionTarget" not in [c["type"] for c in evicted[0]["status"].get("conditions") or []]
        assert failure_exit(evicted[0]) == 143
        # What the user sees: the reason, the limit, the setting and what to do; no retry at the same size.
        failure = status["failure"]
        assert failure["reason"] == "ScratchFull", failure
        assert f"more than the {TOO_SMALL} sizeLimit of its scratch volume" in failure["message"]
        assert "VIDEOJOB_PRESETS" in failure["message"] and "create the VideoJob again" in failure["message"]
        assert len(pods) == 1 and len(jobs) == 1, "spec.retries is 0: one Pod, one Job"
    finally:
        operator.stop()
