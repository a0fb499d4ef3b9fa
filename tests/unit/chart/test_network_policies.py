"""NetworkPolicies: renderer Pods reach only S3, DNS and the LLM endpoint; the gateway accepts only its port."""

from __future__ import annotations

from support import videojob_manifest
from support.chart import find, render
from videojob.operator.builders import build_renderer_job
from videojob.operator.settings import OperatorSettings


def renderer_policy(sets: list[str], namespace: str = "videojob-system") -> dict:
    return find(
        [o for o in render(sets) if o["metadata"].get("namespace") == namespace], "NetworkPolicy", "videojob-renderer"
    )


def test_renderer_policy_selects_the_pods_the_operator_labels() -> None:
    videojob = videojob_manifest("lesson", namespace="videojob-system")
    videojob["metadata"]["uid"] = "0d4c1d6e-7f35-4a8b-9d1e-3c2b1a0f9e8d"
    job = build_renderer_job(videojob, OperatorSettings())
    selector = renderer_policy([])["spec"]["podSelector"]["matchLabels"]
    assert selector.items() <= job["spec"]["template"]["metadata"]["labels"].items()
    assert "app.kubernetes.io/name" in selector


def test_renderer_egress_is_s3_dns_and_llm_only_and_no_ingress() -> None:
    spec = renderer_policy(
        [
            "networkPolicy.renderer.s3.cidrs={10.0.5.0/24}",
            "networkPolicy.renderer.s3.ports={9000}",
            "networkPolicy.renderer.llm.cidrs={203.0.113.7/32}",
        ]
    )["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["ingress"] == []
    s3, dns, llm = spec["egress"]
    assert s3 == {"ports": [{"protocol": "TCP", "port": 9000}], "to": [{"ipBlock": {"cidr": "10.0.5.0/24"}}]}
    assert dns == {
        "to": [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            }
        ],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    }
    assert llm == {"ports": [{"protocol": "TCP", "port": 443}], "to": [{"ipBlock": {"cidr": "203.0.113.7/32"}}]}


def test_one_renderer_policy_per_job_namespace() -> None:
    objects = render(["networkPolicy.renderer.namespaces={team-a,team-b}"])
    policies = [o for o in objects if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "videojob-renderer"]
    assert sorted(p["metadata"]["namespace"] for p in policies) == ["team-a", "team-b"]


def test_gateway_accepts_traffic_on_its_http_port_only() -> None:
    objects = render()
    policy = find(objects, "NetworkPolicy", "videojob-gateway")["spec"]
    pod_labels = find(objects, "Deployment", "videojob-gateway")["spec"]["template"]["metadata"]["labels"]
    assert policy["podSelector"]["matchLabels"].items() <= pod_labels.items()
    assert policy["policyTypes"] == ["Ingress"]
    assert policy["ingress"] == [{"ports": [{"protocol": "TCP", "port": "http"}]}]
    service = find(objects, "Service", "videojob-gateway")
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
