"""What a newcomer sees when the environment cannot be built or started: one clear line."""

import os
import socket
import subprocess
import sys

import pytest

from support import REPO_ROOT
from videojob_devenv import tools
from videojob_devenv.processes import Component, StartError


def _hack(script: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-P", str(REPO_ROOT / "hack" / script), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_missing_go_toolchain_is_named(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path), VIDEOJOB_TOOLS_CACHE=str(tmp_path / "cache"))
    env.pop("KUBEBUILDER_ASSETS", None)
    result = _hack("tools.py", "build", "helm", env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: Go toolchain not found on PATH")
    assert "KUBEBUILDER_ASSETS" in lines[0]


def test_failed_go_build_shows_the_tail_of_the_go_output(tmp_path):
    env = dict(os.environ, GOPROXY="off", VIDEOJOB_TOOLS_CACHE=str(tmp_path / "cache"))
    result = _hack("tools.py", "build", "helm", env=env)
    assert result.returncode == 2
    assert f"error: helm-{tools.HELM_VERSION} build failed" in result.stderr
    assert "last lines of the Go output" in result.stderr
    assert "GOPROXY=off" in result.stderr  # Go's own explanation reaches the user
    assert "Traceback" not in result.stderr


def test_unknown_binary_says_how_to_build_it(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDEOJOB_TOOLS_CACHE", str(tmp_path))
    monkeypatch.delenv("KUBEBUILDER_ASSETS", raising=False)
    with pytest.raises(
        tools.ToolError, match=r"kube-apiserver v1\.34\.\d+ is not built yet: run `hack/tools.py build kubernetes`"
    ):
        tools.require_binary("kube-apiserver")


def test_user_supplied_binaries_are_used_as_they_are(tmp_path, monkeypatch):
    supplied = tmp_path / "kube-apiserver"
    supplied.write_text("#!/bin/sh\n")
    monkeypatch.setenv("KUBEBUILDER_ASSETS", str(tmp_path))
    assert tools.require_binary("kube-apiserver") == supplied


def test_port_in_use_is_named_before_anything_starts(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = dict(os.environ, VIDEOJOB_STATE_DIR=str(tmp_path / "state"))
        result = subprocess.run(
            [str(REPO_ROOT / "hack" / "cluster"), "up", "--apiserver-port", str(port)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: port {port} on 127.0.0.1 is in use, so kube-apiserver cannot listen there: "
        "stop whatever holds it, or choose another with --apiserver-port"
    ]
    assert not (tmp_path / "state" / "controlplane.json").exists()


def test_component_that_dies_while_starting_shows_its_log_tail(tmp_path):
    etcd = Component("etcd", [str(tools.require_binary("etcd")), "--no-such-flag"], tmp_path / "etcd.log")
    etcd.start()
    with pytest.raises(StartError) as raised:
        etcd.wait_ready(lambda: False, timeout=30)
    message = str(raised.value)
    assert message.startswith("etcd exited with code")
    assert "no-such-flag" in message  # etcd's own complaint, from its log


def test_component_that_never_gets_ready_is_stopped_by_its_owner_and_explained(tmp_path):
    sleeper = Component("sleeper", ["sh", "-c", "echo waiting for nothing; exec sleep 60"], tmp_path / "sleeper.log")
    sleeper.start()
    try:
        with pytest.raises(StartError, match=r"sleeper was not ready after 1s[\s\S]*waiting for nothing"):
            sleeper.wait_ready(lambda: False, timeout=1)
    finally:
        sleeper.stop()
    assert not sleeper.running()
