"""kube-proxy for the local node: Services (ClusterIPs, the ``kubernetes`` Service) in iptables mode.

It runs in the slot's network namespace (``nodenet``), so its chains (KUBE-SERVICES...) are
that namespace's alone, with an identity of its own (``system:kube-proxy``, which the
bootstrap RBAC binds to ``system:node-proxier``). Its health and metrics listen on the
node IP, where the host can probe them and the Pods cannot (the namespace's firewall).
"""

from __future__ import annotations

import json
from pathlib import Path

HEALTHZ_PORT = 10256  # the ports of any node: the namespace has nothing else on them
METRICS_PORT = 10249
IDENTITY = "system:kube-proxy"


def config(*, kubeconfig: Path, node_name: str, node_ip: str, cluster_cidr: str) -> str:
    return json.dumps(
        {
            "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
            "kind": "KubeProxyConfiguration",
            "clientConnection": {"kubeconfig": str(kubeconfig)},
            "hostnameOverride": node_name,
            "bindAddress": node_ip,
            "healthzBindAddress": f"{node_ip}:{HEALTHZ_PORT}",
            "metricsBindAddress": f"{node_ip}:{METRICS_PORT}",
            "mode": "iptables",
            # Traffic from outside the Pods' range is masqueraded, so replies find their way back.
            "clusterCIDR": cluster_cidr,
            "detectLocalMode": "ClusterCIDR",
            "nodePortAddresses": [f"{node_ip}/32"],
            # NodePorts on 127.0.0.1 would need route_localnet in the namespace: not offered.
            "iptables": {"localhostNodePorts": False},
            # The conntrack sizes and timeouts are host-wide: a shared machine keeps its own.
            "conntrack": {
                "maxPerCore": 0,
                "min": 0,
                "tcpEstablishedTimeout": "0s",
                "tcpCloseWaitTimeout": "0s",
                "udpTimeout": "0s",
                "udpStreamTimeout": "0s",
            },
            "logging": {"format": "text", "verbosity": 1},
        },
        indent=2,
    )


def healthz_url(node_ip: str) -> str:
    """200 once kube-proxy has written the rules of every Service it knows."""
    return f"http://{node_ip}:{HEALTHZ_PORT}/healthz"
