"""create-tenant binds whichever gateway ServiceAccount and ClusterRole the install named."""

from videojob.api.__main__ import tenant_objects
from videojob.api.settings import GatewaySettings


def _role_binding(settings: GatewaySettings) -> dict:
    [binding] = [body for _, body in tenant_objects("physics", 5, settings) if body["kind"] == "RoleBinding"]
    return binding


def test_the_default_binds_the_manifests_service_account_and_cluster_role():
    binding = _role_binding(GatewaySettings())
    assert binding["roleRef"]["name"] == "videojob-gateway-tenant"
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "videojob-gateway", "namespace": "videojob-system"}
    ]


def test_a_release_with_other_names_is_bound_by_its_own(monkeypatch):
    monkeypatch.setenv("VIDEOJOB_GATEWAY_SERVICE_ACCOUNT_NAMESPACE", "media")
    monkeypatch.setenv("VIDEOJOB_GATEWAY_SERVICE_ACCOUNT_NAME", "vj-gateway")
    monkeypatch.setenv("VIDEOJOB_GATEWAY_TENANT_CLUSTER_ROLE", "vj-gateway-tenant")
    binding = _role_binding(GatewaySettings())
    assert binding["metadata"]["namespace"] == "physics"
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "vj-gateway-tenant",
    }
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "vj-gateway", "namespace": "media"}]
