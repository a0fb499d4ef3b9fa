"""The chart passes ``helm lint --strict`` and renders, with the defaults and with every part on."""

from __future__ import annotations

from collections import Counter

from support.chart import CHART_DIR, EVERYTHING, find, helm, render

DEFAULT_KINDS = {
    "Deployment": 2,
    "Service": 2,
    "ServiceAccount": 2,
    "ClusterRole": 2,
    "ClusterRoleBinding": 1,
    "Role": 1,
    "RoleBinding": 1,
    "Namespace": 1,
    "HorizontalPodAutoscaler": 1,
    "PodDisruptionBudget": 1,
    "NetworkPolicy": 2,
}


def test_helm_lint_strict_passes_with_defaults_and_with_everything_enabled() -> None:
    helm("lint", "--strict", str(CHART_DIR))
    helm("lint", "--strict", str(CHART_DIR), *[f"--set={s}" for s in EVERYTHING])


def test_default_values_render_the_operator_gateway_rbac_and_policies() -> None:
    assert Counter(o["kind"] for o in render()) == DEFAULT_KINDS


def test_everything_enabled_adds_monitoring_dashboards_minio_and_the_helm_test() -> None:
    kinds = Counter(o["kind"] for o in render(EVERYTHING))
    assert kinds == DEFAULT_KINDS | {
        "Deployment": 3,  # and MinIO
        "Service": 3,
        "PersistentVolumeClaim": 1,
        "Secret": 3,  # MinIO's keys; the test's key and its hash
        "RoleBinding": 2,  # and the test tenant's
        "Pod": 1,  # the helm test
        "ServiceMonitor": 2,
        "PrometheusRule": 1,
        "Ingress": 1,
        "ConfigMap": len(list((CHART_DIR / "dashboards").glob("*.json"))),
    }


def test_gateway_disabled_renders_no_gateway_object() -> None:
    objects = render(["gateway.enabled=false"])
    assert [o["metadata"]["name"] for o in objects if "gateway" in o["metadata"]["name"]] == []
    assert {o["kind"] for o in objects} >= {"Deployment", "ClusterRole", "NetworkPolicy"}


def test_every_object_carries_the_helpers_labels() -> None:
    for obj in render(EVERYTHING):
        labels = obj["metadata"]["labels"]
        assert labels["app.kubernetes.io/instance"] == "videojob", obj["metadata"]["name"]
        assert labels["app.kubernetes.io/managed-by"] == "Helm", obj["metadata"]["name"]
        assert labels["app.kubernetes.io/part-of"] == "videojob", obj["metadata"]["name"]


def test_a_release_named_otherwise_prefixes_every_name() -> None:
    objects = [o for o in render(["fullnameOverride=acme"]) if o["kind"] != "Namespace"]
    assert all(o["metadata"]["name"].startswith("acme-") for o in objects), [o["metadata"]["name"] for o in objects]


def test_the_optional_ingress_routes_its_host_to_the_gateway_service_port_http() -> None:
    objects = render(EVERYTHING)
    ingress = find(objects, "Ingress", "videojob-gateway")["spec"]
    assert ingress["tls"] == [{"secretName": "videos-tls", "hosts": ["videos.example.com"]}]
    backend = {"service": {"name": "videojob-gateway", "port": {"name": "http"}}}
    assert ingress["rules"] == [
        {"host": "videos.example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}
    ]
    assert "Ingress" not in {o["kind"] for o in render()}
