"""The operator as a real subprocess against the real control plane, and a stand-in renderer.

There is no kubelet in this tier, so the tests play the renderer's part the way the
contract describes it: they bind the Job's Pod to a cordoned Node object and patch the
Pod's status (running, then terminated with an exit code and a termination message).
The Job controller, garbage collector and scheduler that react are the real ones.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from support import REPO_ROOT, OperatorProcess, launch_operator, videojob_manifest, wait_for
from videojob.contract import Failure, Result, StoredOutput, Usage, encode_termination_message

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


@pytest.fixture(scope="session")
def operator_kubeconfig(kube_cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kubeconfig for the operator's own ServiceAccount, bound to the ClusterRole that ships in manifests/rbac/."""
    manifests = REPO_ROOT / "manifests"
    kube_cluster.kubectl("apply", "-f", str(manifests / "operator" / "namespace.yaml"))
    for name in ("service_account.yaml", "cluster_role.yaml", "cluster_role_binding.yaml"):
        kube_cluster.kubectl("apply", "-f", str(manifests / "rbac" / name))
    token = kube_cluster.kubectl(
        "create", "token", "videojob-operator", "-n", "videojob-system", "--duration=2h"
    ).stdout.strip()
    admin = json.loads(Path(kube_cluster.kubeconfig).read_text())
    config = {
        **admin,
        "users": [{"name": "videojob-operator", "user": {"token": token}}],
        "contexts": [
            {"name": "operator", "context": {"cluster": admin["clusters"][0]["name"], "user": "videojob-operator"}}
        ],
        "current-context": "operator",
    }
    path = tmp_path_factory.mktemp("rbac") / "operator.kubeconfig"
    path.write_text(json.dumps(config))
    return path


def conditions(status: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in status.get("conditions") or []}


@pytest.fixture
def helpers() -> types.SimpleNamespace:
    return types.SimpleNamespace(wait_for=wait_for, conditions=conditions)


class FakeKubelet:
    """Serves the kubelet's container-log endpoint, so `kubectl logs -f` through the real API server works.

    There is no kubelet in this tier; the renderer's stdout is played by lines the test
    hands to :meth:`say`. The API server reaches this server at the fake node's address
    with its kubelet client certificate, exactly as it would reach a kubelet.
    """

    def __init__(self, certificate: Path, key: Path) -> None:
        import http.server
        import queue
        import ssl

        self.streams: dict[tuple[str, str], queue.Queue[str | None]] = {}
        self.requests: list[str] = []
        kubelet = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                kubelet.requests.append(self.path)
                parts = self.path.split("?")[0].strip("/").split("/")
                if len(parts) < 4 or parts[0] != "containerLogs":
                    self.send_error(404)
                    return
                lines = kubelet.stream(parts[1], parts[2])
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                while (line := lines.get()) is not None:
                    data = (line + "\n").encode()
                    try:
                        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                        self.wfile.flush()
                    except OSError:
                        return
                self.wfile.write(b"0\r\n\r\n")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stream(self, namespace: str, pod: str):
        import queue

        return self.streams.setdefault((namespace, pod), queue.Queue())

    def say(self, namespace: str, pod: str, line: str) -> None:
        self.stream(namespace, pod).put(line)

    def stop(self) -> None:
        for lines in self.streams.values():
            lines.put(None)
        self.server.shutdown()
        self.server.server_close()


def _kubelet_serving_pair(pki_dir: Path, directory: Path) -> tuple[Path, Path]:
    """A serving certificate for 127.0.0.1 signed by the cluster CA (the API server checks it)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ca_cert = x509.load_pem_x509_certificate((pki_dir / "ca.crt").read_bytes())
    ca_key = serialization.load_pem_private_key((pki_dir / "ca.key").read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey), "the control plane's CA key is an EC key"
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "videojob-fake-kubelet")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    certificate, private = directory / "kubelet.crt", directory / "kubelet.key"
    certificate.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return certificate, private


@pytest.fixture(scope="session")
def fake_kubelet(kube_cluster: Any, fake_node: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeKubelet]:
    kubelet = FakeKubelet(*_kubelet_serving_pair(Path(kube_cluster.pki_dir), tmp_path_factory.mktemp("kubelet")))
    status = {
        "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": kubelet.port}},
    }
    kube_cluster.kubectl(
        "patch", "node", fake_node, "--subresource=status", "--type=merge", "-p", json.dumps({"status": status})
    )
    yield kubelet
    kubelet.stop()


@pytest.fixture(scope="session")
def garbage_collector_knows_videojobs(kube_cluster: Any, videojob_crd: Any) -> None:
    """Wait until the garbage collector watches VideoJobs.

    It discovers new resource types on a periodic resync (about 30 s), so on a cluster
    whose CRD is seconds old a cascade waits for that first. One probe cascade, up to
    90 s, makes the timed tests measure deletion itself.
    """
    probe_namespace = "videojob-gc-probe"
    kube_cluster.kubectl("create", "namespace", probe_namespace, check=False)
    videojob = videojob_manifest("probe", namespace=probe_namespace, suspend=True)
    kube_cluster.kubectl("apply", "-f", "-", input=json.dumps(videojob))
    uid = kube_cluster.kubectl("get", "vj", "probe", "-n", probe_namespace, "-o", "jsonpath={.metadata.uid}").stdout
    owned = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "probe-owned",
            "namespace": probe_namespace,
            "ownerReferences": [
                {"apiVersion": "videojob.dev/v1alpha1", "kind": "VideoJob", "name": "probe", "uid": uid}
            ],
        },
    }
    kube_cluster.kubectl("apply", "-f", "-", input=json.dumps(owned))
    kube_cluster.kubectl("delete", "vj", "probe", "-n", probe_namespace, "--wait=false")
    wait_for(
        lambda: (
            kube_cluster.kubectl("get", "configmap", "probe-owned", "-n", probe_namespace, check=False).returncode != 0
        ),
        90,
        "the garbage collector to start watching VideoJobs",
        interval=0.5,
    )
