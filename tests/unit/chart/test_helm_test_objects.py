"""``tests.enabled``: the helm test Pod, its API key and the tenant it submits to, rendered by the real helm.

The key the chart generates is checked by the gateway's own code: the rendered hash Secret
is handed to the real app (its API server held in memory, as in tests/unit/api) and the
rendered key is let in, as the release namespace's tenant.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from typing import Any

from fastapi.testclient import TestClient
from unit.api.conftest import MemoryKube
from unit.chart.test_operator_deployment import CONTAINER_SECURITY, POD_SECURITY

from support.chart import RELEASE_NAMESPACE, find, helm, render, template_args
from videojob.api.app import create_app
from videojob.api.dependencies import get_kube, get_settings
from videojob.api.settings import GatewaySettings
from videojob.api.tenants import KEY_LABEL, TENANT_LABEL, key_hash

ON = ["tests.enabled=true"]


def decoded(secret: dict[str, Any]) -> dict[str, str]:
    return {name: base64.b64decode(value).decode() for name, value in secret["data"].items()}


def key_and_hash(objects: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    key = decoded(find(objects, "Secret", "videojob-selftest-key"))["apiKey"]
    [stored] = [o for o in objects if o["kind"] == "Secret" and o["metadata"]["namespace"] == "videojob-keys"]
    return key, stored


def test_nothing_of_the_helm_test_is_rendered_by_default() -> None:
    assert [o["metadata"]["name"] for o in render() if "selftest" in o["metadata"]["name"]] == []


def test_the_generated_key_is_stored_hashed_for_the_release_namespace() -> None:
    key, stored = key_and_hash(render(ON))
    assert key.startswith("vj_") and len(key) == 59
    key_id = key.split("_")[1]
    assert stored["metadata"]["name"] == f"videojob-key-{key_id}"
    assert stored["metadata"]["labels"][KEY_LABEL] == "true"
    assert stored["metadata"]["labels"][TENANT_LABEL] == RELEASE_NAMESPACE
    assert decoded(stored) == {"sha256": key_hash(key), "tenant": RELEASE_NAMESPACE}


def test_the_real_gateway_lets_the_generated_key_in_as_the_release_namespace() -> None:
    key, stored = key_and_hash(render(ON))
    kube = MemoryKube()
    kube.secrets[("videojob-keys", stored["metadata"]["name"])] = stored
    app = create_app()
    app.dependency_overrides[get_kube] = lambda: kube
    app.dependency_overrides[get_settings] = lambda: GatewaySettings(read_cache=False, key_cache_seconds=0)
    with TestClient(app) as client:
        assert client.get("/v1/videos", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        wrong = key[:-1] + ("A" if key[-1] != "A" else "B")
        assert client.get("/v1/videos", headers={"Authorization": f"Bearer {wrong}"}).status_code == 401
    assert f"list {RELEASE_NAMESPACE}" in kube.calls


def test_the_gateway_may_manage_videojobs_in_the_release_namespace() -> None:
    objects = render(ON)
    binding = find(objects, "RoleBinding", "videojob-selftest-tenant")
    assert binding["metadata"]["namespace"] == RELEASE_NAMESPACE
    assert binding["roleRef"]["name"] == find(objects, "ClusterRole", "videojob-gateway-tenant")["metadata"]["name"]
    account = find(objects, "ServiceAccount", "videojob-gateway")["metadata"]
    subject = {"kind": "ServiceAccount", "name": account["name"], "namespace": account["namespace"]}
    assert binding["subjects"] == [subject]


def test_the_test_pod_is_a_restricted_helm_test_hook_that_calls_the_gateway_service() -> None:
    objects = render([*ON, "tests.timeoutSeconds=300", "gateway.service.port=8080"])
    pod = find(objects, "Pod", "videojob-selftest")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    # Hooks are not deleted with the release: a passed test Pod must remove itself.
    assert "hook-succeeded" in pod["metadata"]["annotations"]["helm.sh/hook-delete-policy"]
    spec = pod["spec"]
    assert spec["restartPolicy"] == "Never" and spec["automountServiceAccountToken"] is False
    assert spec["securityContext"] == POD_SECURITY and spec["activeDeadlineSeconds"] == 360
    [container] = spec["containers"]
    assert container["securityContext"] == CONTAINER_SECURITY
    url = f"http://videojob-gateway.{RELEASE_NAMESPACE}.svc:8080"
    assert container["command"] == ["videojob-gateway", "selftest", "--url", url, "--timeout", "300"]
    assert find(objects, "Service", "videojob-gateway")["spec"]["ports"][0]["port"] == 8080
    [key] = container["env"]
    assert key == {
        "name": "VIDEOJOB_SELFTEST_API_KEY",
        "valueFrom": {"secretKeyRef": {"name": "videojob-selftest-key", "key": "apiKey"}},
    }


def test_the_test_pods_command_is_the_gateway_scripts_selftest() -> None:
    """Run the rendered command's arguments through the real entry point: the gateway is
    unreachable here, so it must get as far as trying it and say so."""
    [container] = find(render(ON), "Pod", "videojob-selftest")["spec"]["containers"]
    arguments = container["command"][1:]
    arguments[arguments.index("--url") + 1] = "http://127.0.0.1:9"
    done = subprocess.run(
        [sys.executable, "-P", "-m", "videojob.api", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | {"VIDEOJOB_SELFTEST_API_KEY": "vj_000000000000_" + "x" * 43},
    )
    assert done.returncode == 1, done.stderr
    assert "the gateway did not answer" in done.stderr and "/readyz" in done.stderr


def test_the_helm_test_without_the_gateway_is_refused_saying_why() -> None:
    completed = helm(*template_args([*ON, "gateway.enabled=false"]), check=False)
    assert completed.returncode != 0 and "tests.enabled needs gateway.enabled" in completed.stderr
