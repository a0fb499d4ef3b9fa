"""Cluster DNS for the local cluster: CoreDNS as a Deployment in kube-system, as in any cluster.

The image holds only the static CoreDNS binary built from source (``hack/tools.py build
coredns``). It answers ``cluster.local`` (and reverse lookups) from the API server, which it
reaches through the ``kubernetes`` Service with its ServiceAccount, like any in-cluster
client; every other name is refused: nothing outside the machine is reachable anyway. The
Service is ``kube-dns`` at ``controlplane.CLUSTER_DNS_IP`` with the label
``k8s-app: kube-dns`` that NetworkPolicies select; the kubelet's ``clusterDNS`` names it.
"""

from __future__ import annotations

import inspect
import json
import shutil
import time
from pathlib import Path

from videojob_devenv import tools
from videojob_devenv.controlplane import CLUSTER_DNS_IP, CLUSTER_DOMAIN, ControlPlane
from videojob_devenv.image_store import (
    Image,
    archive_path,
    built,
    cached,
    digest,
    exclusive,
    scratch,
    tar_directory,
    write_docker_archive,
)
from videojob_devenv.processes import StartError

NAMESPACE = "kube-system"
NAME = "coredns"
SERVICE = "kube-dns"
LABELS = {"k8s-app": "kube-dns"}
IMAGE_NAME = "localhost/videojob-coredns"
RECIPE_VERSION = "1"  # bump when the image's layout changes
READY_TIMEOUT = 120

COREFILE = f"""\
{CLUSTER_DOMAIN}:53 in-addr.arpa:53 ip6.arpa:53 {{
    errors
    health {{
        lameduck 2s
    }}
    ready
    kubernetes {CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {{
        pods insecure
        ttl 30
    }}
    prometheus :9153
    cache 30
    loadbalance
    reload
}}
"""


# --- the image ----------------------------------------------------------------------
def image() -> Image:
    """The one-layer image of the built binary, made once per binary (content-addressed)."""
    binary = tools.require_binary("coredns")
    tag = digest(RECIPE_VERSION, binary.read_bytes(), inspect.getsource(_build_image))
    with exclusive(IMAGE_NAME):
        return cached(IMAGE_NAME, tag) or _build_image(tag, binary)


def _build_image(tag: str, binary: Path) -> Image:
    began = time.monotonic()
    with scratch("coredns-") as work:
        root = Path(work, "root")
        (root / "etc" / "coredns").mkdir(parents=True)  # where the ConfigMap's Corefile is mounted
        (root / "etc" / "passwd").write_text("root:x:0:0:root:/:/coredns\n")
        shutil.copy2(binary, root / "coredns")
        tar_directory(root, Path(work, "layer.tar"))
        image = Image(IMAGE_NAME, tag, archive_path(f"{IMAGE_NAME}:{tag}"))
        write_docker_archive(
            image.archive,
            image.ref,
            Path(work, "layer.tar"),
            entrypoint=["/coredns"],
            cmd=["-conf", "/etc/coredns/Corefile"],
            created_by=f"CoreDNS {tools.COREDNS_VERSION} built from source by hack/tools.py",
        )
    return built(image, began)


# --- the objects ----------------------------------------------------------------------
def manifests(image_ref: str) -> list[dict]:
    meta = {"namespace": NAMESPACE, "labels": LABELS}

    container = {
        "name": "coredns",
        "image": image_ref,
        "imagePullPolicy": "IfNotPresent",  # imported into the node; there is no registry
        "ports": [
            {"name": "dns", "containerPort": 53, "protocol": "UDP"},
            {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
            {"name": "metrics", "containerPort": 9153, "protocol": "TCP"},
        ],
        # No CPU request: on a two-core machine two 1-CPU renders must still fit beside it.
        "resources": {"requests": {"memory": "32Mi"}, "limits": {"memory": "128Mi"}},
        "volumeMounts": [{"name": "config", "mountPath": "/etc/coredns", "readOnly": True}],
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8181}, "periodSeconds": 1},
        "livenessProbe": {"httpGet": {"path": "/health", "port": 8080}, "periodSeconds": 10},
        # Root only for port 53, and with nothing but the right to bind it.
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
        },
    }
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": NAME, **meta}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": f"system:{NAME}", "labels": LABELS},
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["endpoints", "services", "pods", "namespaces"],
                    "verbs": ["list", "watch"],
                },
                {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]},
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": f"system:{NAME}", "labels": LABELS},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": f"system:{NAME}"},
            "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}],
        },
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": NAME, **meta}, "data": {"Corefile": COREFILE}},
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": NAME, **meta},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": LABELS},
                "template": {
                    "metadata": {"labels": LABELS},
                    "spec": {
                        "serviceAccountName": NAME,
                        "priorityClassName": "system-cluster-critical",
                        "dnsPolicy": "Default",  # it is the cluster's DNS: it cannot ask itself
                        "terminationGracePeriodSeconds": 5,
                        "tolerations": [
                            {"key": "CriticalAddonsOnly", "operator": "Exists"},
                            # The node is Ready when DNS is deployed; the controller lifts this taint up to 5 s later.
                            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoSchedule"},
                        ],
                        "containers": [container],
                        "volumes": [{"name": "config", "configMap": {"name": NAME}}],
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": SERVICE, **meta},
            "spec": {
                "clusterIP": CLUSTER_DNS_IP,
                "selector": LABELS,
                "ports": [
                    {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                    {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                    {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153},
                ],
            },
        },
    ]


def deploy(plane: ControlPlane, image_ref: str, timeout: float = READY_TIMEOUT) -> float:
    """Apply the objects (idempotent) and wait until CoreDNS answers; return the seconds it took."""
    began = time.monotonic()
    listing = {"apiVersion": "v1", "kind": "List", "items": manifests(image_ref)}
    plane.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=json.dumps(listing))
    waited = plane.kubectl(
        "-n",
        NAMESPACE,
        "rollout",
        "status",
        f"deployment/{NAME}",
        f"--timeout={int(timeout)}s",
        check=False,
        timeout=timeout + 10,
    )
    if waited.returncode != 0:
        pods = plane.kubectl("-n", NAMESPACE, "get", "pods", "-l", "k8s-app=kube-dns", "-o", "wide", check=False)
        raise StartError(
            f"CoreDNS was not ready after {timeout:.0f}s: {waited.stderr.strip()}\n{pods.stdout}"
            f"see `kubectl -n {NAMESPACE} logs deployment/{NAME}` and `kubectl -n {NAMESPACE} get events`"
        )
    return time.monotonic() - began
