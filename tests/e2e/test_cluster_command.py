"""`hack/cluster up --with-node`: a node that outlives the command, recovers after a crash, opens
ports to a developer's servers on request, resolves cluster names, and leaves nothing behind
(no process, mount or cgroup, no network namespace, veth, route or iptables chain)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from support import wait_for
from videojob_devenv import nodenet, tools
from videojob_devenv.nodehost import Slot
from videojob_devenv.processes import pid_alive


def cluster(state_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-P", "-m", "videojob_devenv.cli", "--state-dir", str(state_dir), "cluster", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


def kubectl(state_dir: Path, *args: str) -> str:
    return subprocess.run(
        [str(tools.require_binary("kubectl")), f"--kubeconfig={state_dir / 'kubeconfig'}", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout


def run_pod(state_dir: Path, name: str, image: str, *command: str) -> str:
    kubectl(
        state_dir,
        "run",
        name,
        f"--image={image}",
        "--image-pull-policy=IfNotPresent",
        "--restart=Never",
        "--",
        *(command or ("echo", f"{name} ran")),
    )
    wait_for(
        lambda: kubectl(state_dir, "get", "pod", name, "-o", "jsonpath={.status.phase}") == "Succeeded",
        120,
        interval=0.25,
        what=f"pod {name} to succeed",
    )
    return kubectl(state_dir, "logs", name).strip()


def test_up_with_node_survives_a_crash_and_down_leaves_nothing(tmp_path: Path, base_image):
    state_dir = tmp_path / "cluster"
    try:
        up = cluster(state_dir, "up", "--with-node", "--no-minio")
        assert up.returncode == 0, up.stderr
        assert f"image {base_image.ref} loaded" in up.stdout
        node = json.loads((state_dir / "node" / "node.json").read_text())
        assert set(node["pids"]) == {"containerd", "kubelet", "kube-proxy"}
        assert run_pod(state_dir, "before-crash", base_image.ref) == "before-crash ran"

        for pid in node["pids"].values():  # the kubelet and containerd die without cleaning up
            os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not any(pid_alive(pid) for pid in node["pids"].values()), 10, what="the node to die")
        again = cluster(state_dir, "up", "--with-node", "--no-minio")

        assert again.returncode == 0, again.stderr
        assert "previous node is partly down: cleaning it up" in again.stdout
        assert run_pod(state_dir, "after-crash", base_image.ref) == "after-crash ran"
        resolve = "import socket; print(socket.gethostbyname('kubernetes.default.svc.cluster.local'))"
        assert run_pod(state_dir, "resolver", base_image.ref, "python3", "-c", resolve) == "10.0.0.1"
        status = cluster(state_dir, "status")
        assert "kube-proxy" in status.stdout and "NOT RUNNING" not in status.stdout, status.stdout

        gateway = json.loads((state_dir / "node" / "node.json").read_text())["gateway"]
        with socket.create_server((gateway, 0)) as server:  # a developer's own server for Pods
            port = server.getsockname()[1]
            opened = cluster(state_dir, "open-port", str(port))
            assert opened.returncode == 0, opened.stderr
            connect = (
                f"import socket; socket.create_connection(('{gateway}', {port}), timeout=5).close(); print('connected')"
            )
            assert run_pod(state_dir, "caller", base_image.ref, "python3", "-c", connect) == "connected"
    finally:
        down = cluster(state_dir, "down")
    assert down.returncode == 0, down.stderr
    assert nodenet.leftovers(Slot(node["slot"])) == []
    host_rules = subprocess.run(["iptables-save"], capture_output=True, text=True, check=True).stdout
    assert Slot(node["slot"]).host_link not in host_rules
    assert str(state_dir) not in Path("/proc/self/mountinfo").read_text()
    saved = (
        json.loads((state_dir / "node" / "node.json").read_text())
        if (state_dir / "node" / "node.json").exists()
        else None
    )
    assert saved is None
    assert not any(
        Path("/sys/fs/cgroup", hierarchy, f"videojob-{node['slot']}").exists()
        for hierarchy in ("memory", "cpu", "pids")
    )
