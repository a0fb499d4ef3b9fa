"""The rendered chart, validated by the real kube-apiserver with ``kubectl apply --dry-run=server``.

Every object goes through the API server's schema validation and admission (including
PodSecurity, warning at the restricted level) without being stored. ServiceMonitor and
PrometheusRule are left out: their CRDs (the Prometheus Operator's) do not exist in the local
cluster; tests/unit/chart/test_monitoring_objects.py checks their structure instead.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml

from support.chart import CHART_DIR, EVERYTHING, helm, render
from videojob_devenv.controlplane import ControlPlane

pytestmark = pytest.mark.cluster

NOT_IN_THIS_CLUSTER = {"ServiceMonitor", "PrometheusRule"}
# Not "videojob": the suite's other tests apply manifests/rbac/, whose cluster-scoped names
# (ClusterRole videojob-gateway-tenant, ...) a release called videojob would collide with.
RELEASE_UNDER_TEST = "videojob-chart-test"
RESTRICTED = ("pod-security.kubernetes.io/enforce=restricted", "pod-security.kubernetes.io/warn=restricted")


@pytest.fixture
def keys_namespace(kube_cluster: ControlPlane, namespace: str) -> Iterator[str]:
    """The gateway's keys namespace, existing beforehand: a dry run creates nothing, so a Role
    in a namespace the same apply would create could not be checked."""
    name = f"{namespace[:55]}-keys"
    kube_cluster.kubectl("create", "namespace", name)
    yield name
    kube_cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


def test_every_rendered_object_passes_server_side_dry_run_under_restricted_pod_security(
    kube_cluster: ControlPlane, videojob_crd: list, namespace: str, keys_namespace: str
) -> None:
    kube_cluster.kubectl("label", "namespace", namespace, *RESTRICTED)
    objects = render(
        (*EVERYTHING, f"gateway.keysNamespace={keys_namespace}"), namespace=namespace, release=RELEASE_UNDER_TEST
    )
    applied = [o for o in objects if o["kind"] not in NOT_IN_THIS_CLUSTER]
    assert len(applied) == len(objects) - 3  # two ServiceMonitors and the PrometheusRule

    result = kube_cluster.kubectl(
        "apply", "--dry-run=server", "--server-side", "--field-manager=helm", "-f", "-",
        input=yaml.safe_dump_all(applied), check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(applied), result.stdout
    assert all("(server dry run)" in line for line in lines), result.stdout
    assert "PodSecurity" not in result.stderr, result.stderr


def test_pod_security_warning_is_seen_when_a_pod_template_breaks_restricted(
    kube_cluster: ControlPlane, namespace: str
) -> None:
    """The control for the test above: the same dry run does report a restricted violation."""
    kube_cluster.kubectl("label", "namespace", namespace, *RESTRICTED)
    [deployment] = [
        o for o in render(["gateway.enabled=false"], namespace=namespace)
        if o["kind"] == "Deployment"
    ]  # fmt: skip
    deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] = False
    result = kube_cluster.kubectl("apply", "--dry-run=server", "-f", "-", input=yaml.safe_dump(deployment), check=False)
    assert "would violate PodSecurity" in result.stderr, result.stderr


def test_helm_install_server_dry_run_prints_the_next_commands(
    kube_cluster: ControlPlane, videojob_crd: list, namespace: str, keys_namespace: str
) -> None:
    completed = helm(
        "install", RELEASE_UNDER_TEST, str(CHART_DIR), f"--kubeconfig={kube_cluster.kubeconfig}",
        f"--namespace={namespace}", "--dry-run=server", f"--set=gateway.keysNamespace={keys_namespace}",
        "--set=gateway.createKeysNamespace=false",  # it exists, and Helm adopts only what it labelled
    )  # fmt: skip
    notes = completed.stdout.split("NOTES:", 1)[1]
    assert f"kubectl -n {namespace} rollout status deploy/{RELEASE_UNDER_TEST}-operator" in notes
    assert "kubectl apply -f manifests/samples/videojob_v1alpha1_markdown.yaml" in notes
    assert f"kubectl -n {namespace} port-forward svc/{RELEASE_UNDER_TEST}-gateway 8000:80" in notes
    assert "kubectl apply --server-side -f charts/videojob/crds/" in notes
