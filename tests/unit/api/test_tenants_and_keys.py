"""A key opens its own tenant's videos and nothing else; no key opens nothing."""

from __future__ import annotations

import base64

import pytest

from videojob.api.tenants import key_hash

LECTURE = "# Tides\n\nThe moon pulls the sea.\n"
OUTPUT = {
    "bucket": "videos",
    "key": "outputs/team-a/x/u/video.mp4",
    "sizeBytes": 1,
    "sha256": "a" * 64,
    "durationSeconds": 20.0,
}


def _every_endpoint(video_id: str) -> list[tuple[str, str]]:
    return [
        ("GET", f"/v1/videos/{video_id}"),
        ("GET", f"/v1/videos/{video_id}/content"),
        ("GET", f"/v1/videos/{video_id}/events"),
        ("POST", f"/v1/videos/{video_id}/cancel"),
        ("DELETE", f"/v1/videos/{video_id}"),
    ]


@pytest.fixture
def video_of_a(client, kube, tenant_a) -> str:
    video_id = client.post("/v1/videos", json={"markdown": LECTURE}, headers=tenant_a).json()["id"]
    kube.set_status("team-a", video_id, phase="Succeeded", output=OUTPUT)
    return video_id


def test_another_tenant_gets_404_on_every_endpoint_and_changes_nothing(client, kube, tenant_b, video_of_a):
    before = dict(kube.objects[("team-a", video_of_a)])
    for method, path in _every_endpoint(video_of_a):
        answer = client.request(method, path, headers=tenant_b)
        assert answer.status_code == 404, (method, path, answer.text)
    assert client.get("/v1/videos", headers=tenant_b).json()["data"] == []
    assert kube.objects[("team-a", video_of_a)] == before


@pytest.mark.parametrize(
    "authorization", [None, "Bearer ", "Basic dXNlcjpwYXNz", "Bearer vj_000000000000_" + "x" * 43, "Bearer not-a-key"]
)
def test_no_key_or_a_wrong_key_is_401_on_every_endpoint(client, video_of_a, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    for method, path in [*_every_endpoint(video_of_a), ("GET", "/v1/videos"), ("POST", "/v1/videos")]:
        answer = client.request(method, path, headers=headers, json={"markdown": LECTURE})
        assert answer.status_code == 401, (method, path)
        assert answer.json()["error"]["code"] in ("missing_api_key", "invalid_api_key")
        assert answer.headers["www-authenticate"].startswith("Bearer")


def test_a_key_whose_secret_holds_another_hash_is_refused(client, kube, tenant_a):
    secret = next(iter(kube.secrets.values()))
    secret["data"]["sha256"] = base64.b64encode(key_hash("vj_somethingelse").encode()).decode()
    assert client.get("/v1/videos", headers=tenant_a).status_code == 401


def test_deleting_the_keys_secret_revokes_the_key(client, kube, tenant_a):
    assert client.get("/v1/videos", headers=tenant_a).status_code == 200
    kube.secrets.clear()
    assert client.get("/v1/videos", headers=tenant_a).status_code == 401  # key_cache_seconds is 0 here


def test_the_key_secret_stores_only_a_hash(kube):
    key = kube.add_tenant("team-c")
    stored = str(list(kube.secrets.values())[-1])
    secret_part = key.split("_", 2)[2]  # the secret itself may contain "_"
    assert key not in stored and secret_part not in stored
