"""The gateway tier's fixtures, shared by every test that talks to the real gateway process: the
gateway (``python -P -m videojob.api``) under its own ServiceAccount's token and the RBAC that ships,
and a tenant made by the documented admin command. Used by tests/integration/api, observability,
chart and the e2e gateway test; the conftest or test module that needs them imports them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest

from videojob_devenv import REPO_ROOT
from videojob_devenv.processes import Component, free_port, wait_for

GATEWAY_SA = ("videojob-system", "videojob-gateway")


@dataclass
class Gateway:
    url: str
    component: Component
    clients: list[httpx2.Client] = field(default_factory=list)

    def log(self) -> str:
        return self.component.log_path.read_text(errors="replace")

    def client(self, key: str | None = None) -> httpx2.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        client = httpx2.Client(base_url=self.url, headers=headers, timeout=30)
        self.clients.append(client)  # closed when the test ends
        return client


@pytest.fixture(scope="session")
def gateway_kubeconfig(kube_cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kubeconfig with the gateway ServiceAccount's token and the RBAC that ships (manifests/rbac/gateway_*)."""
    manifests = REPO_ROOT / "manifests"
    kube_cluster.kubectl("apply", "-f", str(manifests / "operator" / "namespace.yaml"))
    for name in ("gateway_service_account.yaml", "gateway_tenant_cluster_role.yaml", "gateway_keys.yaml"):
        kube_cluster.kubectl("apply", "-f", str(manifests / "rbac" / name))
    namespace, account = GATEWAY_SA
    token = kube_cluster.kubectl("create", "token", account, "-n", namespace, "--duration=2h").stdout.strip()
    admin = json.loads(Path(kube_cluster.kubeconfig).read_text())
    config = {
        **admin,
        "users": [{"name": account, "user": {"token": token}}],
        "contexts": [{"name": "gateway", "context": {"cluster": admin["clusters"][0]["name"], "user": account}}],
        "current-context": "gateway",
    }
    path = tmp_path_factory.mktemp("gateway-rbac") / "gateway.kubeconfig"
    path.write_text(json.dumps(config))
    return path


def gateway_command() -> list[str]:
    """The videojob-gateway script, as the image runs it (``-P``: ``operator/`` must not shadow the stdlib)."""
    return [sys.executable, "-P", "-m", "videojob.api"]


@pytest.fixture
def create_tenant(kube_cluster: Any, gateway_kubeconfig: Path, videojob_crd: Any) -> Iterator[Callable[..., str]]:
    """Run the documented command (``videojob-gateway create-tenant``) as the admin; the key it prints."""
    created: list[str] = []

    def create(name: str, max_videos: int = 20) -> str:
        done = subprocess.run(
            [*gateway_command(), "create-tenant", name, "--max-videos", str(max_videos)],
            capture_output=True,
            text=True,
            timeout=200,
            env=os.environ | {"KUBECONFIG": str(kube_cluster.kubeconfig), "PYTHONSAFEPATH": "1"},
        )
        assert done.returncode == 0, done.stderr
        created.append(name)
        quota = json.loads(kube_cluster.kubectl("get", "quota", "videojob-videos", "-n", name, "-o", "json").stdout)
        assert "count/videojobs.videojob.dev" in quota["status"]["used"], done.stderr  # the command waited for it
        return done.stdout.strip()

    yield create
    for name in created:
        kube_cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture
def start_gateway(gateway_kubeconfig: Path, minio_server: Any, tmp_path: Path) -> Iterator[Callable[..., Gateway]]:
    """Start ``python -P -m videojob.api`` (the videojob-gateway script) with its own ServiceAccount's token.

    Keyword arguments are its settings, without the ``VIDEOJOB_GATEWAY_`` prefix (``log_format="json"``).
    """
    started: list[Gateway] = []

    def start(**settings: str) -> Gateway:
        port = free_port()
        env = (
            os.environ
            | {
                "PYTHONSAFEPATH": "1",
                "KUBECONFIG": str(gateway_kubeconfig),
                "VIDEOJOB_GATEWAY_PORT": str(port),
                "VIDEOJOB_GATEWAY_S3_ENDPOINT": minio_server.url,
                "VIDEOJOB_GATEWAY_S3_BUCKET": minio_server.bucket,
                "VIDEOJOB_GATEWAY_S3_ACCESS_KEY": minio_server.access_key,
                "VIDEOJOB_GATEWAY_S3_SECRET_KEY": minio_server.secret_key,
            }
            | {f"VIDEOJOB_GATEWAY_{key.upper()}": value for key, value in settings.items()}
        )
        component = Component.launch(
            f"gateway-{len(started)}", gateway_command(), tmp_path, tie_to_parent=True, env=env
        )
        gateway = Gateway(f"http://127.0.0.1:{port}", component)
        started.append(gateway)

        def ready() -> bool:
            assert component.running(), f"the gateway exited:\n{gateway.log()}"
            try:
                return httpx2.get(f"{gateway.url}/readyz", timeout=2).status_code == 200
            except httpx2.HTTPError:
                return False

        wait_for(ready, 60, "the gateway to answer /readyz")
        return gateway

    yield start
    for gateway in started:
        for client in gateway.clients:
            client.close()
        gateway.component.stop(10)
        assert "Forbidden" not in gateway.log(), gateway.log()[-3000:]
