"""The operator tier's stand-ins, shared by every test that runs the real operator without a kubelet.

There is no kubelet in that tier, so the tests play the renderer's part the way the
contract describes it: they bind the Job's Pod to a cordoned Node object and patch the
Pod's status (running, then terminated with an exit code and a termination message), and
a stand-in log endpoint (:mod:`videojob_devenv.pod_logs`) serves the renderer's stdout to
the real API server. The Job controller, garbage collector and scheduler that react are
the real ones.

The fixtures here are re-exported by the conftest of each directory that uses them
(tests/integration/operator, api, observability).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.launcher import launch_operator
from videojob.contract import Failure, Result, StoredOutput, Usage, encode_termination_message
from videojob_devenv.objects import videojob_manifest
from videojob_devenv.operator_process import OperatorProcess
from videojob_devenv.pod_logs import PodLogServer, kubelet_serving_pair
from videojob_devenv.processes import wait_for

FAKE_NODE = "videojob-test-node"


class Cluster:
    """What a user and the stand-in renderer do, through kubectl against the real API server."""

    def __init__(self, kube_cluster: Any, namespace: str) -> None:
        self.kube, self.namespace = kube_cluster, namespace

    def kubectl(self, *args: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
        return self.kube.kubectl(*args, "-n", self.namespace, check=check, input=input)

    def get(self, *args: str) -> dict[str, Any]:
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def apply(self, manifest: dict[str, Any] | str) -> None:
        text = manifest if isinstance(manifest, str) else yaml.safe_dump(manifest)
        self.kubectl("apply", "-f", "-", input=text)

    def videojob(self, name: str, **spec: Any) -> dict[str, Any]:
        self.apply(videojob_manifest(name, **spec))
        return self.get("vj", name)

    def status(self, name: str) -> dict[str, Any]:
        return self.get("vj", name).get("status") or {}

    def wait_status(
        self, name: str, predicate: Callable[[dict[str, Any]], bool], what: str, timeout: float = 30
    ) -> dict[str, Any]:
        return wait_for(lambda: (lambda s: s if predicate(s) else None)(self.status(name)), timeout, f"{name}: {what}")

    def jobs(self, name: str) -> list[dict[str, Any]]:
        uid = self.get("vj", name)["metadata"]["uid"]
        return self.get("jobs", "-l", f"videojob.dev/uid={uid}")["items"]

    def wait_job(self, name: str, timeout: float = 30) -> dict[str, Any]:
        return wait_for(lambda: next(iter(self.jobs(name)), None), timeout, f"the renderer Job of {name}")

    def pods(self, job: dict[str, Any]) -> list[dict[str, Any]]:
        items = self.get("pods", "-l", f"batch.kubernetes.io/job-name={job['metadata']['name']}")["items"]
        return sorted(items, key=lambda pod: pod["metadata"]["creationTimestamp"])

    def wait_new_pod(self, job: dict[str, Any], seen: int = 0, timeout: float = 60) -> dict[str, Any]:
        pods = wait_for(
            lambda: [p for p in self.pods(job) if not p["metadata"].get("deletionTimestamp")][seen:],
            timeout,
            f"pod #{seen + 1} of Job {job['metadata']['name']}",
        )
        return pods[0]

    # --- the stand-in renderer ---

    def bind(self, pod: dict[str, Any]) -> None:
        binding = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": pod["metadata"]["name"]},
            "target": {"apiVersion": "v1", "kind": "Node", "name": FAKE_NODE},
        }
        if self.get("pod", pod["metadata"]["name"])["spec"].get("nodeName"):
            return
        path = f"/api/v1/namespaces/{self.namespace}/pods/{pod['metadata']['name']}/binding"
        self.kube.kubectl("create", "--raw", path, "-f", "-", input=json.dumps(binding))

    def set_pod_status(
        self, pod: dict[str, Any], phase: str, container_state: dict[str, Any], conditions: list | None = None
    ) -> None:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        status = {
            "phase": phase,
            "conditions": conditions
            if conditions is not None
            else [{"type": "PodScheduled", "status": "True", "lastTransitionTime": now}],
            "startTime": now,
            "containerStatuses": [
                {
                    "name": "renderer",
                    "image": "localhost/videojob-renderer:test",
                    "imageID": "",
                    "ready": phase == "Running",
                    "restartCount": 0,
                    "started": phase == "Running",
                    "state": container_state,
                }
            ],
        }
        self.kubectl(
            "patch",
            "pod",
            pod["metadata"]["name"],
            "--subresource=status",
            "--type=merge",
            "-p",
            json.dumps({"status": status}),
        )

    def run_pod(self, pod: dict[str, Any]) -> None:
        self.bind(pod)
        self.set_pod_status(
            pod, "Running", {"running": {"startedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}}
        )

    def finish_pod(self, pod: dict[str, Any], exit_code: int, reason: str, message: str = "") -> None:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        state = {
            "terminated": {
                "exitCode": exit_code,
                "reason": reason,
                "message": message,
                "startedAt": now,
                "finishedAt": now,
            }
        }
        self.set_pod_status(pod, "Succeeded" if exit_code == 0 else "Failed", state)

    def succeed(self, pod: dict[str, Any], name: str) -> Result:
        result = Result(
            output=StoredOutput(
                bucket="videos",
                key=f"outputs/{self.namespace}/{name}/video.mp4",
                size_bytes=2_345_678,
                sha256="b" * 64,
                duration_seconds=58.0,
            ),
            usage=Usage(ttsCharacters=900, cpuSeconds=120.0, scenesRendered=3),
        )
        self.run_pod(pod)
        self.finish_pod(pod, 0, "Completed", encode_termination_message(result))
        return result

    def fail(
        self,
        pod: dict[str, Any],
        exit_code: int,
        reason: str = "Error",
        failure: Failure | None = None,
        bind: bool = True,
    ) -> None:
        if bind:
            self.run_pod(pod)
        self.finish_pod(pod, exit_code, reason, encode_termination_message(failure) if failure else "")

    def events(self, name: str) -> list[dict[str, Any]]:
        return self.get("events", "--field-selector", f"involvedObject.name={name}")["items"]


@pytest.fixture(scope="session")
def fake_node(kube_cluster: Any) -> str:
    """A cordoned Node object with room for renders: Pods are bound to it by hand, never by the scheduler."""
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": FAKE_NODE, "labels": {"kubernetes.io/hostname": FAKE_NODE}},
        "spec": {"unschedulable": True},
    }
    kube_cluster.kubectl("apply", "-f", "-", input=json.dumps(node))
    capacity = {"cpu": "16", "memory": "64Gi", "pods": "110"}
    kube_cluster.kubectl(
        "patch",
        "node",
        FAKE_NODE,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps({"status": {"capacity": capacity, "allocatable": capacity}}),
    )
    return FAKE_NODE


@pytest.fixture
def cluster(kube_cluster: Any, videojob_crd: Any, fake_node: str, namespace: str) -> Cluster:
    return Cluster(kube_cluster, namespace)


@pytest.fixture
def start_operator(kube_cluster: Any, namespace: str, tmp_path: Path) -> Iterator[Callable[..., OperatorProcess]]:
    """Start the operator (``python -P -m videojob.operator``) watching only this test's namespace.

    Keyword arguments are VIDEOJOB_* settings; ``kubeconfig`` replaces the admin one.
    """
    started: list[OperatorProcess] = []

    def start(kubeconfig: Path | None = None, **settings: str) -> OperatorProcess:
        process = launch_operator(
            kubeconfig or kube_cluster.kubeconfig, namespace, tmp_path / "operator.log", **settings
        )
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
    if started and os.environ.get("VIDEOJOB_SHOW_OPERATOR_LOG"):
        print(started[0].log())


def conditions(status: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in status.get("conditions") or []}


@pytest.fixture
def helpers() -> types.SimpleNamespace:
    return types.SimpleNamespace(wait_for=wait_for, conditions=conditions)


@pytest.fixture(scope="session")
def fake_kubelet(kube_cluster: Any, fake_node: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PodLogServer]:
    """The fake Node's container-log endpoint, so `kubectl logs -f` through the real API server works.

    The renderer's stdout is played by lines the test hands to ``say``; the API server reaches
    this server at the Node's address with its kubelet client certificate, as it would a kubelet.
    """
    server = PodLogServer(kubelet_serving_pair(Path(kube_cluster.pki_dir), tmp_path_factory.mktemp("kubelet")))
    kube_cluster.kubectl(
        "patch",
        "node",
        fake_node,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps({"status": server.node_status()}),
    )
    yield server
    server.stop()
