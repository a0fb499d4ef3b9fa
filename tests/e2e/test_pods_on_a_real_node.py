"""Pods on the real node: logs, cgroup limits and termination messages behave as on any cluster."""

from __future__ import annotations

import json

MEMORY_LIMIT = {"limits": {"memory": "64Mi", "cpu": "1"}, "requests": {"memory": "64Mi", "cpu": "100m"}}
CPU_LIMIT = {"limits": {"cpu": "200m", "memory": "128Mi"}, "requests": {"cpu": "200m", "memory": "128Mi"}}
BURN_SECONDS = 4

BURN = f"""
import json, time
wall0, cpu0 = time.monotonic(), time.process_time()
while time.monotonic() - wall0 < {BURN_SECONDS}:
    sum(range(10000))
wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
with open("/sys/fs/cgroup/cpu/cpu.stat") as stat:
    throttled = dict(line.split() for line in stat)["nr_throttled"]
print(json.dumps({{"wall": wall, "cpu": cpu, "nr_throttled": int(throttled)}}))
"""


def test_node_is_ready_with_the_built_kubelet(kube_node, kube_cluster):
    node = json.loads(kube_cluster.kubectl("get", "node", kube_node.name, "-o", "json").stdout)
    ready = {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"]
    assert ready == "True"
    assert node["status"]["nodeInfo"]["kubeletVersion"] == "v1.34.4"
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://")


def test_stdout_of_a_pod_on_the_base_image_reaches_kubectl_logs(pods, base_image):
    pod = pods.run(
        "hello", base_image.ref, ["python3", "-c", "import sys; print('hello from python', sys.version.split()[0])"]
    )

    assert pod["status"]["phase"] == "Succeeded"
    assert pods.logs("hello").strip() == "hello from python 3.11.2"


def test_allocating_past_the_memory_limit_is_oom_killed(pods, base_image):
    pod = pods.run(
        "hog",
        base_image.ref,
        ["python3", "-c", "block = b'x' * (200 << 20); print(len(block))"],
        resources=MEMORY_LIMIT,
    )

    assert pod["status"]["phase"] == "Failed"
    state = pods.terminated(pod)
    assert state["reason"] == "OOMKilled"
    assert state["exitCode"] == 137


def test_a_cpu_limit_of_200m_throttles_to_a_fifth_of_a_core(pods, base_image):
    pod = pods.run("burn", base_image.ref, ["python3", "-c", BURN], resources=CPU_LIMIT)

    assert pod["status"]["phase"] == "Succeeded"
    figures = json.loads(pods.logs("burn"))
    share = figures["cpu"] / figures["wall"]
    assert 0.1 <= share <= 0.3, figures
    assert figures["nr_throttled"] > 0, figures


def test_termination_log_becomes_the_terminated_message(pods, base_image):
    script = "printf 'rendered 3 scenes into video.mp4' > /dev/termination-log; exit 3"
    pod = pods.run("farewell", base_image.ref, ["sh", "-c", script])

    state = pods.terminated(pod)
    assert state["exitCode"] == 3
    assert state["message"] == "rendered 3 scenes into video.mp4"


def test_a_hardened_pod_runs_as_non_root_on_a_read_only_root(pods, base_image):
    script = (
        "import os, pathlib; print(os.getuid());"
        "pathlib.Path('/scratch/ok').write_text('x'); print('scratch writable');"
        "open('/etc/forbidden', 'w')"
    )
    manifest = pods.pod_manifest("hardened", base_image.ref, ["python3", "-u", "-c", script])
    spec = manifest["spec"]
    spec["securityContext"] = {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}}
    spec["containers"][0]["securityContext"] = {
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    }
    spec["containers"][0]["volumeMounts"] = [{"name": "scratch", "mountPath": "/scratch"}]
    spec["volumes"] = [{"name": "scratch", "emptyDir": {}}]
    pods.apply(manifest)

    pod = pods.wait_finished("hardened")

    assert pod["status"]["phase"] == "Failed"
    lines = pods.logs("hardened").splitlines()
    # stdout and stderr reach the log through separate pipes: only the order within each is kept.
    stdout = [line for line in lines if line in ("10001", "scratch writable")]
    assert stdout == ["10001", "scratch writable"], "\n".join(lines)
    assert "OSError: [Errno 30] Read-only file system: '/etc/forbidden'" in lines, "\n".join(lines)
