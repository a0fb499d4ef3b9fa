"""The chart installed for real: ``helm install`` on the local node, the operator and the
gateway running in it as Pods, exactly as a user installs videojob on any cluster.

One release serves the module's tests, in order: it installs into a namespace that
enforces Pod Security ``restricted``; ``helm test`` renders a video through the gateway's
Service (its Pod reaches the gateway by cluster DNS); a VideoJob applied with kubectl
renders with the in-cluster operator, and a ``helm upgrade`` that restarts the operator
mid-render loses nothing; the gateway answers through its Service (``kubectl
port-forward``); ``helm rollback`` returns to the installed values; ``helm uninstall``
leaves no Pod of the release behind, and keeps the CRD, the VideoJobs and their outputs.

S3 is the MinIO on the node's bridge (the external S3 a cloud user would point at, with its
keys in a Secret), so the outputs can be checked after the release is gone; the chart's own
MinIO (``minio.enabled``) is proven by tests/unit/chart/test_minio.py and
tests/integration/chart/test_minio_bucket_from_a_directory.py.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from support import wait_for
from support.chart import CHART_DIR, helm
from support.node_operator import NODE_S3_SECRET
from videojob_devenv import images
from videojob_devenv.controlplane import ControlPlane
from videojob_devenv.minio import MinioServer
from videojob_devenv.node import Node
from videojob_devenv.release import RESTRICTED_LABELS, LocalRelease, port_forward

RELEASE = "vj-e2e"
FULLNAME = f"{RELEASE}-videojob"  # _helpers.tpl: "<release>-<chart>"
NAMESPACE = "videojob-helm-e2e"
KEYS_NAMESPACE = f"{NAMESPACE}-keys"
INSTALL_TIMEOUT = 600
RENDER_TIMEOUT = 600
# The first test also pays for the node, the images (tests/e2e/conftest.py) and the install.
pytestmark = [pytest.mark.cluster, pytest.mark.minio, pytest.mark.timeout(900 + INSTALL_TIMEOUT + RENDER_TIMEOUT)]
# A lecture of four scenes at low quality: long enough on two cores for an upgrade to land mid-render.
LECTURE = """# Levers

A lever turns a small force into a large one.

# The fulcrum

- the pivot
- the load
- the effort

# The law of the lever

$$F_1 d_1 = F_2 d_2$$

# Everyday levers

Scissors, seesaws and crowbars are all levers.
"""


@dataclass
class Release:
    cluster: ControlPlane
    minio: MinioServer
    install_started: float
    installed_in: float
    first_video_in: float | None = None
    rendered: list[dict[str, Any]] = field(default_factory=list)  # final VideoJobs whose outputs must stay

    def helm(
        self, *args: str, check: bool = True, timeout: float = INSTALL_TIMEOUT + 60
    ) -> subprocess.CompletedProcess[str]:
        kube = (f"--kubeconfig={self.cluster.kubeconfig}", f"--namespace={NAMESPACE}")
        return helm(*args, *kube, check=check, timeout=timeout)

    def kubectl(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return self.cluster.kubectl("-n", NAMESPACE, *args, check=check, timeout=timeout)

    def get(self, *args: str) -> Any:
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def release_pods(self) -> list[dict[str, Any]]:
        return self.get("pods", "-l", f"app.kubernetes.io/instance={RELEASE}")["items"]

    def operator_pod(self) -> dict[str, Any]:
        [pod] = [
            p
            for p in self.get("pods", "-l", "app.kubernetes.io/component=operator")["items"]
            if not p["metadata"].get("deletionTimestamp")
        ]
        return pod

    def selftest_key(self) -> str:
        secret = self.get("secret", f"{FULLNAME}-selftest-key")
        return base64.b64decode(secret["data"]["apiKey"]).decode()

    def wait_rollout(self) -> None:
        for component in ("operator", "gateway"):
            self.kubectl("rollout", "status", f"deploy/{FULLNAME}-{component}", "--timeout=300s", timeout=320)

    def wait_phase(self, name: str, phases: tuple[str, ...], timeout: float = RENDER_TIMEOUT) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            videojob = self.get("vj", name)
            return videojob if (videojob.get("status") or {}).get("phase") in phases else None

        try:
            return wait_for(reached, timeout, f"vj/{name} to reach {'/'.join(phases)}", interval=0.5)
        except TimeoutError as error:
            described = self.kubectl("describe", "vj", name, check=False).stdout
            logs = self.kubectl("logs", f"deploy/{FULLNAME}-operator", "--tail=40", check=False).stdout
            pytest.fail(f"{error}\n{described}\noperator log:\n{logs}", pytrace=False)


@pytest.fixture(scope="module")
def release(
    kube_cluster: ControlPlane,
    kube_node: Node,
    base_image: images.Image,
    renderer_image: images.Image,
    node_minio: MinioServer,
) -> Iterator[Release]:
    try:
        controlplane = images.controlplane_image(base_image)
    except images.ImageError as error:
        pytest.fail(f"the control-plane image could not be built: {error}", pytrace=False)
    kube_node.load(controlplane)
    kube_cluster.kubectl("create", "namespace", NAMESPACE)
    kube_cluster.kubectl("label", "namespace", NAMESPACE, *RESTRICTED_LABELS)
    kube_cluster.kubectl(
        "create", "secret", "generic", NODE_S3_SECRET, "-n", NAMESPACE,
        f"--from-literal=accessKey={node_minio.access_key}", f"--from-literal=secretKey={node_minio.secret_key}",
    )  # fmt: skip
    local = LocalRelease(
        controlplane=controlplane,
        renderer=renderer_image,
        s3_endpoint=f"http://{node_minio.pod_endpoint}",
        bucket=node_minio.bucket,
        s3_secret=NODE_S3_SECRET,
        watch_namespaces=[NAMESPACE],  # other e2e tests run their own operator process for theirs
        keys_namespace=KEYS_NAMESPACE,
    )
    values = [*local.sets(), "tests.enabled=true", f"tests.timeoutSeconds={RENDER_TIMEOUT}"]
    began = time.monotonic()
    installed = helm(
        "install", RELEASE, str(CHART_DIR), f"--kubeconfig={kube_cluster.kubeconfig}", f"--namespace={NAMESPACE}",
        "--wait", f"--timeout={INSTALL_TIMEOUT}s", *[f"--set={value}" for value in values],
        check=False, timeout=INSTALL_TIMEOUT + 60,
    )  # fmt: skip
    state = Release(kube_cluster, node_minio, began, time.monotonic() - began)
    if installed.returncode != 0:
        pods = state.kubectl("get", "pods", "-o", "wide", check=False).stdout
        events = state.kubectl("get", "events", "--sort-by=.lastTimestamp", check=False).stdout[-4000:]
        pytest.fail(f"helm install failed:\n{installed.stderr}\n{pods}\n{events}", pytrace=False)
    assert "PodSecurity" not in installed.stderr, installed.stderr  # the namespace warns at restricted too
    print(f"\nhelm install --wait: {state.installed_in:.1f} s until the operator and gateway were Ready")
    yield state
    state.helm("uninstall", RELEASE, "--wait", "--ignore-not-found")
    # No operator is left to run the finalizers of kept VideoJobs (retention Delete).
    for item in state.get("vj")["items"]:
        state.kubectl(
            "patch", "vj", item["metadata"]["name"], "--type=merge", "-p", '{"metadata":{"finalizers":null}}',
            check=False,
        )  # fmt: skip
    for namespace in (NAMESPACE, KEYS_NAMESPACE):
        kube_cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def test_install_runs_the_operator_and_gateway_as_pods_under_restricted_pod_security(release: Release) -> None:
    labels = release.get("namespace", NAMESPACE)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    pods = {p["metadata"]["labels"]["app.kubernetes.io/component"]: p for p in release.release_pods()}
    assert set(pods) == {"operator", "gateway"}
    for component, pod in pods.items():
        assert pod["status"]["phase"] == "Running", component
        assert all(c["ready"] for c in pod["status"]["containerStatuses"]), component
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert release.installed_in < INSTALL_TIMEOUT


def test_helm_test_renders_a_video_through_the_gateway_service(release: Release) -> None:
    tested = release.helm("test", RELEASE, f"--timeout={RENDER_TIMEOUT}s", check=False)
    if tested.returncode != 0:
        logs = release.kubectl("logs", f"{FULLNAME}-selftest", check=False)
        pytest.fail(f"helm test failed:\n{tested.stdout}\n{tested.stderr}\n{logs.stdout}{logs.stderr}", pytrace=False)
    release.first_video_in = time.monotonic() - release.install_started
    print(f"\nhelm install to the first video (helm test passed): {release.first_video_in:.1f} s")
    assert re.search(rf"TEST SUITE:\s+{FULLNAME}-selftest", tested.stdout), tested.stdout
    assert re.search(r"Phase:\s+Succeeded", tested.stdout), tested.stdout
    # The succeeded test Pod is removed (hook-succeeded), so nothing of it outlives the release.
    assert release.kubectl("get", "pod", f"{FULLNAME}-selftest", check=False).returncode != 0


def test_a_videojob_applied_with_kubectl_renders_through_a_helm_upgrade(release: Release) -> None:
    """The in-cluster operator renders it; an upgrade that replaces the operator Pod mid-render loses nothing."""
    name = "levers"
    manifest = {
        "apiVersion": "videojob.dev/v1alpha1",
        "kind": "VideoJob",
        "metadata": {"name": name},
        "spec": {"source": {"markdown": LECTURE}, "quality": "low", "voice": {"provider": "espeak"}},
    }
    release.cluster.kubectl("apply", "-n", NAMESPACE, "-f", "-", input=json.dumps(manifest))
    release.wait_phase(name, ("Scripting", "Rendering", "Assembling", "Uploading", "Failed"))
    before = release.operator_pod()["metadata"]["uid"]
    began = time.monotonic()
    upgraded = release.helm(
        "upgrade", RELEASE, str(CHART_DIR), "--reuse-values", "--set=operator.logLevel=DEBUG", "--wait",
        f"--timeout={INSTALL_TIMEOUT}s",
    )  # fmt: skip
    assert "has been upgraded" in upgraded.stdout
    successor = release.operator_pod()
    assert successor["metadata"]["uid"] != before  # the operator really restarted (Recreate: never two at once)
    print(f"\nhelm upgrade --wait mid-render: {time.monotonic() - began:.1f} s")
    final = release.wait_phase(name, ("Succeeded", "Failed"))
    status = final["status"]
    assert status["phase"] == "Succeeded", status.get("failure")
    assert status["progress"] == 100 and status["output"]["sha256"] and status.get("attempts", 1) == 1
    jobs = [
        job
        for job in release.get("jobs", "-l", "app.kubernetes.io/name=videojob-renderer")["items"]
        if job["metadata"]["ownerReferences"][0]["name"] == name
    ]
    assert len(jobs) == 1  # nothing rendered twice
    selector = f"batch.kubernetes.io/job-name={jobs[0]['metadata']['name']}"

    def ended() -> str | None:  # Succeeded may come from the renderer's log a moment before its container ends
        [pod] = release.get("pods", "-l", selector)["items"]
        return ((pod["status"]["containerStatuses"][0]["state"].get("terminated") or {}).get("finishedAt")) or None

    finished = wait_for(ended, 30, "the renderer's container to end")
    # Timestamps are RFC 3339 in UTC, so they compare as text: the render ended under the new operator.
    assert finished > successor["metadata"]["creationTimestamp"], (finished, successor["metadata"])
    stored = release.minio.client().stat_object(status["output"]["bucket"], status["output"]["key"])
    assert stored.size == status["output"]["sizeBytes"]
    release.rendered.append(final)


def test_the_gateway_answers_through_its_service(release: Release) -> None:
    with port_forward(release.cluster.kubeconfig, NAMESPACE, f"svc/{FULLNAME}-gateway", 80) as url:
        with urllib.request.urlopen(f"{url}/readyz", timeout=10) as ready:
            assert ready.status == 200
        bearer = {"Authorization": f"Bearer {release.selftest_key()}"}
        with urllib.request.urlopen(urllib.request.Request(f"{url}/v1/videos", headers=bearer), timeout=10) as listed:
            assert json.load(listed)["object"] == "list"
        with urllib.request.urlopen(f"{url}/metrics", timeout=10) as metrics:
            assert 'videojob_gateway_requests_total{method="GET",route="/v1/videos"' in metrics.read().decode()


def test_helm_rollback_returns_to_the_installed_values(release: Release) -> None:
    release.helm("rollback", RELEASE, "1", "--wait", f"--timeout={INSTALL_TIMEOUT}s")
    history = json.loads(release.helm("history", RELEASE, "-o", "json").stdout)
    assert [entry["revision"] for entry in history] == [1, 2, 3]
    assert history[-1]["status"] == "deployed" and "Rollback to 1" in history[-1]["description"]
    release.wait_rollout()
    [container] = release.operator_pod()["spec"]["containers"]
    assert {"name": "VIDEOJOB_LOG_LEVEL", "value": "INFO"} in container["env"]


def test_helm_uninstall_leaves_no_pod_and_keeps_the_crd_videojobs_and_outputs(release: Release) -> None:
    assert release.rendered, "no video was rendered earlier in this module"
    release.helm("uninstall", RELEASE, "--wait")
    wait_for(lambda: not release.release_pods(), 120, "the release's Pods to be gone")
    running = [
        p["metadata"]["name"] for p in release.get("pods")["items"] if p["status"]["phase"] in ("Pending", "Running")
    ]
    assert running == []
    assert release.cluster.kubectl("get", "crd", "videojobs.videojob.dev", check=False).returncode == 0
    for videojob in release.rendered:
        output = videojob["status"]["output"]
        assert release.get("vj", videojob["metadata"]["name"])["status"]["phase"] == "Succeeded"
        assert release.minio.client().stat_object(output["bucket"], output["key"]).size == output["sizeBytes"]
    assert release.cluster.kubectl("get", "namespace", KEYS_NAMESPACE, check=False).returncode == 0  # kept: the keys
