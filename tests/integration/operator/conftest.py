"""The operator as a real subprocess against the real control plane, and a stand-in renderer.

The stand-ins (a cordoned fake Node, the stand-in renderer, the stand-in kubelet's log
endpoint) and the operator launcher live in tests/support/stand_ins.py, shared with the
gateway and observability tests; the fixtures only these tests use are here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from support import REPO_ROOT, videojob_manifest, wait_for
from support.stand_ins import (  # noqa: F401 - fixtures, re-exported for this directory
    cluster,
    fake_kubelet,
    fake_node,
    helpers,
    start_operator,
)


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
