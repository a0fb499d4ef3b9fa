"""End-to-end fixtures: a real node (containerd + kubelet), local images, and a MinIO Pods can reach.

Only tests under tests/e2e use these; they are all marked ``node``. The node and
images are session-scoped: the first test pays for them (node ready in seconds,
the base image a couple of minutes on a cold cache, nothing on a warm one).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from support import wait_for
from support.node_operator import start_node_operator
from support.openai_stub import OpenAIStub, serve_openai_stub
from videojob_devenv import images
from videojob_devenv.controlplane import ControlPlane
from videojob_devenv.minio import MinioServer
from videojob_devenv.node import Node
from videojob_devenv.nodehost import HostError
from videojob_devenv.operator_process import OperatorProcess
from videojob_devenv.processes import StartError
from videojob_devenv.tools import ToolError

E2E_DIR = Path(__file__).resolve().parent
# The first test also waits for the node and, on a cold cache, the base image build.
SETUP_TIMEOUT = 900


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in Path(item.path).parents:
            item.add_marker(pytest.mark.node)
            item.add_marker(pytest.mark.timeout(SETUP_TIMEOUT))


@pytest.fixture(scope="session")
def kube_node(kube_cluster: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    node = Node(kube_cluster, tmp_path_factory.mktemp("node"))
    try:
        node.start()
    except (StartError, ToolError, HostError, images.ImageError) as error:
        pytest.fail(f"the local node did not start: {error}", pytrace=False)
    yield node
    node.stop()


@pytest.fixture(scope="session")
def base_image(kube_node: Node) -> images.Image:
    """The Debian bookworm + Python 3.11 base, built (or taken from the cache) and loaded into the node."""
    try:
        image = images.base_image()
    except images.ImageError as error:
        pytest.fail(f"the base image could not be built: {error}", pytrace=False)
    kube_node.load(image)
    return image


@pytest.fixture(scope="session")
def probe_image(kube_node: Node, base_image: images.Image) -> images.Image:
    """tests/e2e/images/Dockerfile.probe built with buildah on top of the base, loaded into the node."""
    try:
        image = images.dockerfile_image(
            "localhost/videojob-e2e-probe", E2E_DIR / "images" / "Dockerfile.probe", E2E_DIR / "images", base_image
        )
    except images.ImageError as error:
        pytest.fail(f"the probe image could not be built: {error}", pytrace=False)
    kube_node.load(image)
    return image


@pytest.fixture(scope="session")
def node_minio(kube_node: Node, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MinioServer]:
    """A MinIO on loopback and on the node's bridge gateway, the one host port Pods may reach."""
    server = MinioServer(tmp_path_factory.mktemp("node-minio"), pod_host=kube_node.gateway)
    try:
        server.start()
    except (StartError, ToolError) as error:
        pytest.fail(f"the MinIO for Pods did not start: {error}", pytrace=False)
    assert server.port is not None  # chosen by start()
    kube_node.open_port(server.port)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def renderer_image(kube_node: Node, base_image: images.Image) -> images.Image:
    """Dockerfile.renderer built on the base (layers cached: a code change rebuilds one step), loaded into the node."""
    try:
        image = images.renderer_image(base_image)
    except images.ImageError as error:
        pytest.fail(f"the renderer image could not be built: {error}", pytrace=False)
    kube_node.load(image)
    return image


@pytest.fixture
def node_operator(
    kube_cluster: ControlPlane,
    videojob_crd: list[Path],
    namespace: str,
    node_minio: MinioServer,
    renderer_image: images.Image,
    tmp_path: Path,
) -> Iterator[Callable[..., OperatorProcess]]:
    """Starts the operator as a real process for renders on the real node, once per test, with the
    settings the test names (``node_operator(VIDEOJOB_MAX_CONCURRENT_RENDERS="2")``); stopped after
    the test. Its log is ``tmp_path / "operator.log"``."""
    started: list[OperatorProcess] = []

    def start(**settings: str) -> OperatorProcess:
        assert not started, "one operator per test: its S3 Secret is created in the test's namespace"
        process = start_node_operator(
            kube_cluster, namespace, node_minio, renderer_image, tmp_path / "operator.log", **settings
        )
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def pod_openai_stub(kube_node: Node) -> Iterator[OpenAIStub]:
    """The local OpenAI-compatible stand-in on the node's bridge gateway, its port open to Pods."""
    with serve_openai_stub(kube_node.gateway) as stub:
        kube_node.open_port(stub.port)
        yield stub


class Pods:
    """Create Pods and Jobs in one namespace and wait for what a user would wait for."""

    def __init__(self, cluster: ControlPlane, namespace: str):
        self.cluster = cluster
        self.namespace = namespace

    def kubectl(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        return self.cluster.kubectl("-n", self.namespace, *args, check=check, timeout=timeout)

    def apply(self, manifest: dict) -> None:
        self.cluster.kubectl("-n", self.namespace, "apply", "-f", "-", input=json.dumps(manifest))

    def get(self, kind: str, name: str) -> dict:
        return json.loads(self.kubectl("get", kind, name, "-o", "json").stdout)

    def run(
        self, name: str, image: str, command: list[str], *, resources: dict | None = None, timeout: float = 120
    ) -> dict:
        """Run a one-shot Pod to its end; return the Pod object."""
        self.apply(self.pod_manifest(name, image, command, resources=resources))
        return self.wait_finished(name, timeout=timeout)

    def wait_finished(self, name: str, *, timeout: float = 120) -> dict:
        def finished() -> dict | None:
            pod = self.get("pod", name)
            return pod if pod["status"].get("phase") in ("Succeeded", "Failed") else None

        try:
            return wait_for(finished, timeout, f"pod {name} to finish", interval=0.25)
        except TimeoutError as error:
            events = self.kubectl("get", "events", "-o", "wide", check=False).stdout
            pytest.fail(f"{error}\nstatus: {json.dumps(self.get('pod', name)['status'])}\n{events}", pytrace=False)

    def logs(self, name: str) -> str:
        return self.kubectl("logs", name).stdout

    @staticmethod
    def container_spec(image: str, command: list[str], resources: dict | None = None) -> dict:
        return {
            "name": "main",
            "image": image,
            "imagePullPolicy": "IfNotPresent",  # nothing to pull from: the image was imported into the node
            "command": command,
            "resources": resources or {},
        }

    @staticmethod
    def pod_spec(image: str, command: list[str], resources: dict | None = None) -> dict:
        return {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "terminationGracePeriodSeconds": 1,
            "containers": [Pods.container_spec(image, command, resources)],
        }

    @staticmethod
    def pod_manifest(name: str, image: str, command: list[str], *, resources: dict | None = None) -> dict:
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name},
            "spec": Pods.pod_spec(image, command, resources),
        }

    @staticmethod
    def terminated(pod: dict) -> dict:
        return pod["status"]["containerStatuses"][0]["state"]["terminated"]


@pytest.fixture
def pods(kube_cluster: ControlPlane, kube_node: Node, namespace: str) -> Pods:
    return Pods(kube_cluster, namespace)
