"""Disk pressure on the real node: a render that writes past its scratch volume's sizeLimit.

Nothing is played: the operator gives the renderer's emptyDir a small sizeLimit (its quality
preset, VIDEOJOB_PRESETS), the real renderer writes its audio and scene clips there, and the
kubelet's eviction manager evicts the Pod (it measures Pod volumes every volumeStatsAggPeriod,
5 s on the local node, and checks every 10 s). The kubelet stops the Pod with SIGTERM and no
DisruptionTarget condition (exit code 143, or 137 when the renderer takes more than the grace period),
so the Job controller counts an ordinary failure and would retry it spec.retries times at the same
size (a 137 the podFailurePolicy fails at once); the operator ends that attempt and starts the next
with VIDEOJOB_SCRATCH_FACTOR times the sizeLimit, up to VIDEOJOB_SCRATCH_CEILING, and at the
ceiling the user sees ScratchFull and what to change. spec.retries keeps its default (2) here,
so one Pod per attempt proves that no Pod was retried at the same size.

Sizes measured in Pods on this node (low quality, espeak): a render's scratch holds about 3 MiB
before its first scene is narrated (its caches under HOME), then about 2.4 MiB more per scene:
3.6 MiB for 2 scenes, 18 MiB for 8. A quarter of a CPU keeps each render slow (tens of seconds)
so that the eviction manager, up to 15 s behind, always sees the volume full before the render ends.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time

from support import videojob_manifest, wait_for

from .test_chaos_on_a_real_node import Report, _print

EXIT_SIGTERM, EXIT_SIGKILL = 143, 137  # 143 the operator ends (it looks like a deleted Pod); 137 fails the Job
TOO_SMALL = "2Mi"  # under the 3 MiB a render holds from its start
SLOW = {"requests": {"cpu": "250m"}, "limits": {"cpu": "250m"}}
ESPEAK = {"provider": "espeak"}  # a small program: the render's time and scratch are its scenes'
SENTENCE = "A render writes its narration, its scene clips and the video into the scratch volume"


def _lecture(parts: int) -> str:
    token = secrets.token_hex(4)  # nothing from another test's scene cache
    return f"# Disk {token}\n\nA lecture that fills its disk, {token}.\n" + "".join(
        f"\n## Part {n}\n\n" + f"{SENTENCE}, part {n}, {token}. " * 4 + "\n" for n in range(1, parts)
    )


def _get(kube_cluster, namespace: str, *args: str) -> dict:
    return json.loads(kube_cluster.kubectl("get", *args, "-n", namespace, "-o", "json").stdout)


def _settled(status: dict) -> bool:
    unsettled = [a for a in status.get("attemptHistory") or () if a.get("outcome") in ("Running", "Pending")]
    return status.get("phase") in ("Succeeded", "Failed") and not unsettled


def _render(kube_cluster, namespace: str, name: str, parts: int, operator) -> tuple[dict, list, list, float]:
    manifest = videojob_manifest(name, source={"markdown": _lecture(parts)}, voice=ESPEAK, resources=SLOW)
    kube_cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(manifest))
    created = time.monotonic()
    with contextlib.suppress(TimeoutError):  # the assertions say what was seen
        wait_for(
            lambda: _settled(_get(kube_cluster, namespace, "vj", name).get("status") or {}),
            300,
            f"vj/{name} to finish",
            interval=0.5,
        )
    took = time.monotonic() - created
    status = _get(kube_cluster, namespace, "vj", name).get("status") or {}
    pods = _get(kube_cluster, namespace, "pods", "-l", f"videojob.dev/name={name}")["items"]
    jobs = _get(kube_cluster, namespace, "jobs", "-l", f"videojob.dev/name={name}")["items"]
    assert status.get("phase") in ("Succeeded", "Failed"), (
        f"{json.dumps(status, indent=1)}\npods: {[p['status'] for p in pods]}\n{operator.log_tail(40)}"
    )
    print(f"vj/{name}: {status['phase']} after {took:.0f} s, attempts {status.get('attemptHistory')}")
    return status, pods, jobs, took


def _evicted_by_the_kubelet(pod: dict, limit: str) -> int:
    """What the kubelet did, on the real node: evicted for the emptyDir, no DisruptionTarget, SIGTERM with
    the grace period of an immediate eviction (1 s, which the runtime makes its minimum of 2 s): exit code
    143, or 137 (SIGKILL) when the renderer was not done stopping by then (seen while it narrated)."""
    assert pod["status"].get("reason") == "Evicted", pod["status"]
    assert f'EmptyDir volume "scratch" exceeds the limit "{limit}"' in pod["status"]["message"]
    assert "DisruptionTarget" not in [c["type"] for c in pod["status"].get("conditions") or []]
    exit_code = pod["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"]
    assert exit_code in (EXIT_SIGTERM, EXIT_SIGKILL), exit_code
    return exit_code


def _one_pod_per_attempt(pods: list, jobs: list) -> dict[str, dict]:
    names = [job["metadata"]["name"] for job in jobs]
    by_job = {name: [pod for pod in pods if pod["metadata"]["labels"].get("job-name") == name] for name in names}
    assert sorted(len(each) for each in by_job.values()) == [1] * len(jobs), {k: len(v) for k, v in by_job.items()}
    return {name: each[0] for name, each in by_job.items()}


def _scratch_too_small() -> str:
    """VIDEOJOB_PRESETS giving the low preset a scratch volume the render outgrows."""
    return json.dumps({"low": {"scratch": TOO_SMALL}})


def test_a_render_evicted_for_its_scratch_comes_back_with_a_bigger_volume_and_succeeds(
    kube_cluster, namespace, node_operator
):
    operator = node_operator(
        VIDEOJOB_PRESETS=_scratch_too_small(), VIDEOJOB_SCRATCH_FACTOR="16", VIDEOJOB_SCRATCH_CEILING="1Gi"
    )
    status, pods, jobs, took = _render(kube_cluster, namespace, "scratch-grows", 4, operator)  # needs ~8 MiB

    assert status["phase"] == "Succeeded", f"{json.dumps(status, indent=1)}\n{operator.log_tail(40)}"
    history = status["attemptHistory"]
    assert [(a["attempt"], a["scratch"], a["outcome"]) for a in history] == [
        (1, TOO_SMALL, "ScratchFull"),
        (2, "32Mi", "Succeeded"),  # 16 x 2Mi, four times what the render needs
    ]
    pod_of = _one_pod_per_attempt(pods, jobs)  # no retry at 2Mi, though spec.retries is 2
    print(f"attempt 1 exit code {_evicted_by_the_kubelet(pod_of[history[0]['jobName']], TOO_SMALL)}")
    events = _get(kube_cluster, namespace, "events", "--field-selector", "involvedObject.name=scratch-grows")["items"]
    raised = [e["message"] for e in events if e["reason"] == "ScratchRaised"]
    assert raised and "starts with 32Mi of scratch" in raised[0], [e["reason"] for e in events]
    _print(Report("scratch sizeLimit exceeded, grown", faults=1, finished=1, longest_recovery_s=took), None)


def test_a_render_that_needs_more_scratch_than_the_ceiling_fails_as_scratch_full_at_once(
    kube_cluster, namespace, node_operator
):
    operator = node_operator(
        VIDEOJOB_PRESETS=_scratch_too_small(), VIDEOJOB_SCRATCH_FACTOR="2", VIDEOJOB_SCRATCH_CEILING="4Mi"
    )
    status, pods, jobs, took = _render(kube_cluster, namespace, "scratch-full", 8, operator)  # needs ~18 MiB
    report = Report(
        "scratch sizeLimit exceeded, past the ceiling",
        faults=len(jobs),
        finished=int(status["phase"] == "Failed"),
        lost=int(status["phase"] != "Failed"),
        longest_recovery_s=took,  # here: from creation to the clear failure
    )
    _print(report, None)

    assert status["phase"] == "Failed", json.dumps(status, indent=1)
    history = status["attemptHistory"]
    assert [(a["attempt"], a["scratch"], a["outcome"]) for a in history] == [
        (1, TOO_SMALL, "ScratchFull"),
        (2, "4Mi", "ScratchFull"),
    ]
    pod_of = _one_pod_per_attempt(pods, jobs)
    exits = [_evicted_by_the_kubelet(pod_of[attempt["jobName"]], attempt["scratch"]) for attempt in history]
    print(f"exit codes {exits}")
    # What the user sees: the reason, the size enforced, the setting and what to do.
    failure = status["failure"]
    assert (failure["reason"], failure["exitCode"]) == ("ScratchFull", exits[-1]), failure
    assert "more than the 4Mi sizeLimit of its scratch volume" in failure["message"]
    assert "VIDEOJOB_SCRATCH_CEILING=4Mi" in failure["message"] and "needs more than the ceiling" in failure["message"]
    assert "create the VideoJob again" in failure["message"]
