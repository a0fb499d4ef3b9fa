"""The real gateway process, told VIDEOJOB_GATEWAY_LOG_FORMAT=json: every line it writes is JSON, one
access line per request with method, route, status, duration and tenant (never the API key), and a
line about one video names the VideoJob's namespace, name and uid."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from support import REPO_ROOT, wait_for

pytestmark = pytest.mark.cluster

LECTURE = "# Rainbows\n\nLight bends in a raindrop.\n"


def _lines(log: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.splitlines() if line.strip()]  # raises on a line that is not JSON


def test_the_access_log_is_json_naming_the_tenant_and_the_video(cluster, create_tenant, start_gateway) -> None:
    gateway = start_gateway(log_format="json")
    key = create_tenant(cluster.namespace)
    api = gateway.client(key)
    created = api.post("/v1/videos", json={"markdown": LECTURE, "quality": "low"})
    assert created.status_code == 202, created.text
    name = created.json()["id"]
    assert api.get(f"/v1/videos/{name}").status_code == 200
    assert api.get("/v1/videos/no-such-video").status_code == 404
    uid = cluster.get("vj", name)["metadata"]["uid"]

    def access_lines() -> list[dict[str, Any]]:
        lines = [line for line in _lines(gateway.log()) if line["logger"] == "videojob.api.access"]
        return lines if len([line for line in lines if line.get("tenant")]) >= 3 else []

    lines = wait_for(access_lines, 10, "three access lines of the tenant in the gateway's log")
    by_route = {(line["method"], line["route"], line["status"]): line for line in lines}
    create = by_route["POST", "/v1/videos", 202]
    read = by_route["GET", "/v1/videos/{video_id}", 200]
    missing = by_route["GET", "/v1/videos/{video_id}", 404]
    identity = {"namespace": cluster.namespace, "name": name, "uid": uid}
    assert create["videojob"] == identity and read["videojob"] == identity
    assert missing["videojob"] == {"namespace": cluster.namespace, "name": "no-such-video"}
    for line in (create, read, missing):
        assert line["tenant"] == cluster.namespace and line["level"] == "info"
        assert 0 < line["duration_seconds"] < 30 and line["time"].endswith("Z")
    assert read["path"] == f"/v1/videos/{name}"
    ready = by_route["GET", "/readyz", 200]  # not about a tenant or a video
    assert ready["tenant"] is None and "videojob" not in ready
    secret = key.split("_", 2)[2]  # vj_<id>_<secret>; the secret itself may hold "_"
    assert key not in gateway.log() and secret not in gateway.log()
    # uvicorn's own lines go through the same handler
    assert any(line["logger"].startswith("uvicorn") for line in _lines(gateway.log()))


def test_a_bad_log_format_stops_the_start_naming_the_variable() -> None:
    done = subprocess.run(
        [sys.executable, "-P", "-m", "videojob.api"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONSAFEPATH": "1", "VIDEOJOB_GATEWAY_LOG_FORMAT": "xml"},
    )
    assert done.returncode == 2, done.stderr
    assert "VIDEOJOB_GATEWAY_LOG_FORMAT must be one of json, text, auto, not 'xml'" in done.stderr
