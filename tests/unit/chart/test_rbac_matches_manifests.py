"""The chart grants exactly the rights of manifests/rbac/: one set of rules, two ways to install."""

from __future__ import annotations

from support.chart import REPO_ROOT, find, load_manifests, render

RBAC = REPO_ROOT / "manifests" / "rbac"


def manifest(file: str, kind: str) -> dict:
    [obj] = [o for o in load_manifests(RBAC / file) if o["kind"] == kind]
    return obj


def test_operator_cluster_role_has_the_manifests_rules() -> None:
    chart = find(render(), "ClusterRole", "videojob-operator")
    assert chart["rules"] == manifest("cluster_role.yaml", "ClusterRole")["rules"]


def test_operator_binding_binds_its_service_account_in_the_release_namespace() -> None:
    binding = find(render(namespace="videojob-ops"), "ClusterRoleBinding", "videojob-operator")
    assert binding["roleRef"] == manifest("cluster_role_binding.yaml", "ClusterRoleBinding")["roleRef"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "videojob-operator", "namespace": "videojob-ops"}]


def test_gateway_tenant_cluster_role_has_the_manifests_rules() -> None:
    chart = find(render(), "ClusterRole", "videojob-gateway-tenant")
    assert chart["rules"] == manifest("gateway_tenant_cluster_role.yaml", "ClusterRole")["rules"]


def test_gateway_keys_role_and_binding_match_the_manifests() -> None:
    objects = render()
    for kind in ("Role", "RoleBinding"):
        chart, expected = find(objects, kind, "videojob-gateway-keys"), manifest("gateway_keys.yaml", kind)
        assert chart["metadata"]["namespace"] == expected["metadata"]["namespace"]
        for field in ("rules", "roleRef", "subjects"):
            assert chart.get(field) == expected.get(field), f"{kind} {field}"


def test_gateway_has_no_cluster_wide_binding() -> None:
    bindings = [o for o in render() if o["kind"] == "ClusterRoleBinding"]
    assert [s["name"] for b in bindings for s in b["subjects"]] == ["videojob-operator"]


def test_service_accounts_match_the_manifests() -> None:
    objects = render()
    for file, name in (
        ("service_account.yaml", "videojob-operator"),
        ("gateway_service_account.yaml", "videojob-gateway"),
    ):
        chart = find(objects, "ServiceAccount", name)
        expected = manifest(file, "ServiceAccount")
        assert (chart["metadata"]["namespace"], chart["automountServiceAccountToken"]) == (
            expected["metadata"]["namespace"],
            expected["automountServiceAccountToken"],
        )
