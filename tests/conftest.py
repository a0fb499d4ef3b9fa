"""Shared fixtures: a real control plane and a real MinIO, started once per session.

Both are started only when a test asks for them, from the binaries that
`hack/tools.py build` made. Their processes die with pytest, even if it is killed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support import CRD_DIR, REPO_ROOT, namespace_name, wait_for
from videojob_devenv.controlplane import ControlPlane
from videojob_devenv.minio import MinioServer
from videojob_devenv.processes import StartError
from videojob_devenv.prometheus import PrometheusServer
from videojob_devenv.tools import ToolError

TIERS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Fast tiers first; and e2e last, because its node joins the session's cluster,
    which the integration tests expect to have no node (Pods stay Pending there)."""

    def tier(item: pytest.Item) -> int:
        parts = Path(item.path).relative_to(REPO_ROOT / "tests").parts
        return TIERS.index(parts[0]) if parts and parts[0] in TIERS else len(TIERS)

    items.sort(key=tier)  # stable: the order within a tier is kept


@pytest.fixture(scope="session")
def kube_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    plane = ControlPlane(tmp_path_factory.mktemp("controlplane"))
    try:
        plane.start()
    except (StartError, ToolError) as error:
        pytest.fail(f"the local control plane did not start: {error}", pytrace=False)
    yield plane
    plane.stop()


@pytest.fixture(scope="session")
def minio_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MinioServer]:
    server = MinioServer(tmp_path_factory.mktemp("minio"))
    try:
        server.start()
    except (StartError, ToolError) as error:
        pytest.fail(f"the local MinIO did not start: {error}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def prometheus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """A real Prometheus scraping every second; a test points it at its targets with reconfigure()."""
    server = PrometheusServer(tmp_path_factory.mktemp("prometheus"), interval="1s")
    try:
        server.start()
    except StartError as error:
        pytest.fail(f"the local Prometheus did not start: {error}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def videojob_crd(kube_cluster: ControlPlane) -> list[Path]:
    """Applies the CRDs that ship (manifests/crd/) and waits until they are served."""
    files = sorted(CRD_DIR.glob("*.yaml"))
    if not files:
        pytest.fail(f"no CRD manifests in {CRD_DIR}", pytrace=False)
    for path in files:
        kube_cluster.kubectl("apply", "--server-side", "-f", str(path))
    # Not `kubectl wait --for=condition=Established`: it fails at once ("accessor error: <nil>")
    # when it reads the CRD before the API server has given it any condition, as under load.
    query = '{.status.conditions[?(@.type=="Established")].status}'

    def established() -> bool:
        for path in files:
            listed = kube_cluster.kubectl("get", "-f", str(path), "-o", f"jsonpath={query}", check=False)
            if listed.returncode != 0 or listed.stdout.strip() != "True":
                return False
        return True

    wait_for(established, 60, "the VideoJob CRD to be served (condition Established)")
    return files


@pytest.fixture
def namespace(kube_cluster: ControlPlane, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace per test, named after it; deleted (without waiting) afterwards."""
    name = namespace_name(request.node.name)
    kube_cluster.kubectl("create", "namespace", name)
    # Pods need the namespace's default ServiceAccount, which a controller creates.
    wait_for(
        lambda: kube_cluster.kubectl("get", "serviceaccount", "default", "-n", name, check=False).returncode == 0,
        30,
        f"namespace {name} to get its default ServiceAccount",
    )
    yield name
    kube_cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)
