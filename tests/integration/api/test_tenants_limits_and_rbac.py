"""Tenants against the real API server: isolation on every endpoint, idempotency, the rate limit,
the ResourceQuota cap, and the gateway's own least-privilege RBAC."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.cluster, pytest.mark.minio]

LECTURE = "# Tides\n\nThe moon pulls the sea.\n"
GATEWAY = "system:serviceaccount:videojob-system:videojob-gateway"


def test_a_tenant_can_never_reach_another_tenants_video(cluster, create_tenant, start_gateway, namespace):
    key_a = create_tenant(cluster.namespace)
    key_b = create_tenant(f"{namespace[:50]}-b")
    gateway = start_gateway()
    video = gateway.client(key_a).post("/v1/videos", json={"markdown": LECTURE, "quality": "low"}).json()
    other = gateway.client(key_b)
    for method, path in [
        ("GET", f"/v1/videos/{video['id']}"),
        ("GET", f"/v1/videos/{video['id']}/content"),
        ("GET", f"/v1/videos/{video['id']}/events"),
        ("POST", f"/v1/videos/{video['id']}/cancel"),
        ("DELETE", f"/v1/videos/{video['id']}"),
    ]:
        assert other.request(method, path).status_code == 404, (method, path)
        assert gateway.client().request(method, path).status_code == 401, (method, path)
        assert gateway.client("vj_000000000000_" + "A" * 43).request(method, path).status_code == 401
    assert other.get("/v1/videos").json()["data"] == []
    assert cluster.get("vj", video["id"])["spec"].get("suspend") is not True  # the cancel from B changed nothing
    assert key_a not in gateway.log() and key_b not in gateway.log()  # no key in plain text, not in logs


def test_the_same_idempotency_key_makes_one_videojob(cluster, create_tenant, start_gateway):
    api = start_gateway().client(create_tenant(cluster.namespace))
    headers = {"Idempotency-Key": "lesson-7"}
    first = api.post("/v1/videos", json={"markdown": LECTURE}, headers=headers)
    again = api.post("/v1/videos", json={"markdown": LECTURE}, headers=headers)
    other = api.post("/v1/videos", json={"markdown": LECTURE + "More.\n"}, headers=headers)
    assert first.json()["id"] == again.json()["id"] and again.headers["idempotent-replayed"] == "true"
    assert other.status_code == 409 and other.json()["error"]["param"] == "Idempotency-Key"
    assert len(cluster.get("vj")["items"]) == 1


def test_the_resource_quota_caps_a_tenants_videos_with_a_clear_429(cluster, create_tenant, start_gateway):
    api = start_gateway().client(create_tenant(cluster.namespace, max_videos=2))
    assert [api.post("/v1/videos", json={"markdown": LECTURE}).status_code for _ in range(2)] == [202, 202]
    refused = api.post("/v1/videos", json={"markdown": LECTURE})
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "quota_exceeded"
    assert "already has 2 of its 2 videos" in refused.json()["error"]["message"]
    assert len(cluster.get("vj")["items"]) == 2  # the API server itself refused the third


def test_the_rate_limit_refuses_the_burst_with_retry_after(cluster, create_tenant, start_gateway):
    gateway = start_gateway(rate_burst="2", rate_per_minute="1")
    api = gateway.client(create_tenant(cluster.namespace))
    answers = [api.post("/v1/videos", json={"markdown": LECTURE}) for _ in range(3)]
    assert [a.status_code for a in answers] == [202, 202, 429]
    assert int(answers[-1].headers["retry-after"]) > 0 and answers[-1].headers["ratelimit-remaining"] == "0"
    metrics = api.get("/metrics").text
    assert f'videojob_gateway_rate_limited_total{{tenant="{cluster.namespace}"}} 1.0' in metrics


def test_the_gateway_holds_only_what_it_needs(cluster, create_tenant, kube_cluster, gateway_kubeconfig):
    create_tenant(cluster.namespace)

    def can(*args: str) -> bool:
        return kube_cluster.kubectl("auth", "can-i", *args, f"--as={GATEWAY}", check=False).stdout.strip() == "yes"

    for verb in ("get", "list", "watch", "create", "patch", "delete"):
        assert can(verb, "videojobs.videojob.dev", "-n", cluster.namespace), verb
    assert can("get", "secrets", "-n", "videojob-keys")
    assert not can("list", "secrets", "-n", "videojob-keys")  # a key names its Secret; no enumeration
    assert not can("get", "secrets", "-n", cluster.namespace)
    assert not can("get", "videojobs.videojob.dev", "-n", "default")  # not a tenant
    assert not can("create", "jobs", "-n", cluster.namespace) and not can("get", "pods", "-n", cluster.namespace)
    assert not can("update", "videojobs.videojob.dev/status", "-n", cluster.namespace)


def test_the_daily_cap_counts_the_tenants_videos_of_the_last_24_hours(cluster, create_tenant, start_gateway):
    api = start_gateway(daily_cap="2").client(create_tenant(cluster.namespace))
    assert [api.post("/v1/videos", json={"markdown": LECTURE}).status_code for _ in range(2)] == [202, 202]
    refused = api.post("/v1/videos", json={"markdown": LECTURE})
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "daily_cap_exceeded"
    assert 0 < int(refused.headers["retry-after"]) <= 86400
