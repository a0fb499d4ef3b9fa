"""`hack/cluster up | status | down`: a development cluster that outlives the command and leaves nothing behind."""

import json
import os
import subprocess

from support import REPO_ROOT
from videojob_devenv import tools
from videojob_devenv.processes import pid_alive


def _cluster(*args, env):
    return subprocess.run(
        [str(REPO_ROOT / "hack" / "cluster"), *args], capture_output=True, text=True, env=env, timeout=180
    )


def test_up_status_down_leaves_no_process_behind(tmp_path):
    state = tmp_path / "state"
    env = dict(os.environ, VIDEOJOB_STATE_DIR=str(state))
    up = _cluster("up", env=env)
    try:
        assert up.returncode == 0, up.stderr
        assert "control plane ready in" in up.stdout
        assert "minio ready in" in up.stdout
        saved = json.loads((state / "controlplane.json").read_text())
        pids = list(saved["pids"].values()) + list(json.loads((state / "minio.json").read_text())["pids"].values())
        assert all(pid_alive(pid) for pid in pids)

        namespaces = subprocess.run(
            [
                str(tools.require_binary("kubectl")),
                f"--kubeconfig={state / 'kubeconfig'}",
                "get",
                "namespace",
                "default",
                "-o",
                "name",
            ],
            capture_output=True,
            text=True,
        )
        assert namespaces.stdout.strip() == "namespace/default"

        status = _cluster("status", env=env)
        assert status.returncode == 0
        for name in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "minio"):
            assert f"{name} " in status.stdout and "NOT RUNNING" not in status.stdout

        again = _cluster("up", env=env)
        assert "already up" in again.stdout
    finally:
        down = _cluster("down", env=env)
    assert down.stdout.strip() == "stopped"
    assert not any(pid_alive(pid) for pid in pids)
    assert _cluster("status", env=env).stdout.strip() == "down"
