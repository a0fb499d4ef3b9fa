"""One video's whole life through the gateway: POST, the event stream to completion, the
download byte for byte, the list, and delete; and a failure that carries the renderer's message."""

from __future__ import annotations

import hashlib
import itertools
import threading

import httpx2
import pytest
from integration.api.sse import read_events

pytestmark = [pytest.mark.cluster, pytest.mark.minio]

LECTURE = "# Rainbows\n\nLight bends in a raindrop.\n\n## Colours\n\n- red bends least\n- violet bends most\n"


def test_post_follow_download_list_delete(cluster, operator, renderer, create_tenant, start_gateway, kube_cluster):
    key = create_tenant(cluster.namespace)
    gateway = start_gateway()
    api = gateway.client(key)
    answer = api.post("/v1/videos", json={"markdown": LECTURE, "quality": "low", "theme": "physics"})
    assert answer.status_code == 202, answer.text
    video = answer.json()
    assert answer.headers["location"] == f"{gateway.url}/v1/videos/{video['id']}"
    assert cluster.get("vj", video["id"])["spec"]["source"]["markdown"] == LECTURE  # a video is a VideoJob

    events: list[tuple[str | None, str, dict]] = []
    stream_done = threading.Event()

    def follow() -> None:
        with api.stream("GET", f"/v1/videos/{video['id']}/events", timeout=httpx2.Timeout(120, read=120)) as response:
            for event in read_events(response):
                events.append(event)
        stream_done.set()

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    pod = renderer.start(video["id"])
    renderer.progress(pod, "Rendering", 30, "Rendering scene 1/2", eta=20)
    cluster.wait_status(video["id"], lambda s: s.get("progress") == 30, "progress 30")
    renderer.progress(pod, "Rendering", 70, "Rendering scene 2/2", eta=5)
    cluster.wait_status(video["id"], lambda s: s.get("progress") == 70, "progress 70")
    early = api.get(f"/v1/videos/{video['id']}/content?variant=contact_sheet")
    assert early.status_code == 409 and early.json()["error"]["code"] == "video_not_ready"
    result = renderer.succeed(pod, video["id"])
    assert stream_done.wait(60), (
        f"the event stream did not end after completion; got {[e[2]['status'] for e in events]}"
    )

    seen = [(data["status"], data["progress"], data["stage"]) for _, kind, data in events if kind == "video"]
    assert seen[0][0] == "queued" and seen[-1][:2] == ("completed", 100)
    assert ("in_progress", 30, "Rendering scene 1/2") in seen and ("in_progress", 70, "Rendering scene 2/2") in seen
    full = [data for _, kind, data in events if kind == "video"]
    assert all(before != after for before, after in itertools.pairwise(full)), f"an event repeated the last: {seen}"
    ids = [int(event_id or 0) for event_id, _, _ in events]
    assert ids == sorted(ids)

    done = api.get(f"/v1/videos/{video['id']}").json()
    assert done["status"] == "completed" and done["output"]["sha256"] == result.output.sha256
    assert done["completed_at"] >= done["created_at"] and done["usage"]["tts_characters"] == 120
    downloaded = api.get(f"/v1/videos/{video['id']}/content", follow_redirects=True)
    assert downloaded.status_code == 200
    assert hashlib.sha256(downloaded.content).hexdigest() == done["output"]["sha256"]
    vtt = api.get(f"/v1/videos/{video['id']}/content?variant=vtt", follow_redirects=True)
    assert vtt.text.startswith("WEBVTT")
    assert set(done["content"]) == {"video", "thumbnail", "contact_sheet", "vtt", "srt"}
    sheet = api.get(done["content"]["contact_sheet"], follow_redirects=True)
    assert sheet.status_code == 200 and sheet.headers["content-type"] == "image/png"
    assert sheet.content == renderer.contact_sheet  # the object the renderer uploaded, byte for byte

    listed = api.get("/v1/videos").json()
    assert [item["id"] for item in listed["data"]] == [video["id"]] and listed["has_more"] is False

    assert api.delete(f"/v1/videos/{video['id']}").json()["deleted"] is True
    assert api.get(f"/v1/videos/{video['id']}").status_code == 404
    assert cluster.kubectl("get", "vj", video["id"], check=False).returncode != 0


def test_a_failed_render_reads_failed_with_the_renderers_message(
    cluster, operator, renderer, create_tenant, start_gateway
):
    api = start_gateway().client(create_tenant(cluster.namespace))
    video = api.post("/v1/videos", json={"markdown": LECTURE, "quality": "low"}).json()
    pod = renderer.start(video["id"])
    renderer.fail(pod, "InvalidStoryboard", "scene 2: a comparison needs two columns; add the second one")
    with api.stream("GET", f"/v1/videos/{video['id']}/events", timeout=60) as response:
        last = list(read_events(response))[-1][2]
    assert last["status"] == "failed"
    failure = cluster.status(video["id"])["failure"]
    assert last["error"] == {"code": "InvalidStoryboard", "message": failure["message"]}  # the VideoJob's own words
    assert last["error"]["message"].startswith("scene 2: a comparison needs two columns; add the second one")
    answer = api.get(f"/v1/videos/{video['id']}/content")
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "video_not_ready"


def test_last_event_id_resumes_from_the_real_watch_without_losing_a_change(
    cluster, operator, renderer, create_tenant, start_gateway
):
    api = start_gateway().client(create_tenant(cluster.namespace))
    video = api.post("/v1/videos", json={"markdown": LECTURE, "quality": "low"}).json()
    with api.stream("GET", f"/v1/videos/{video['id']}/events", timeout=60) as response:
        first_id, _, first = next(read_events(response))
    pod = renderer.start(video["id"])
    renderer.progress(pod, "Rendering", 50, "Rendering scene 1/2")
    cluster.wait_status(video["id"], lambda s: s.get("progress") == 50, "progress 50")
    renderer.succeed(pod, video["id"])
    cluster.wait_status(video["id"], lambda s: s.get("phase") == "Succeeded", "phase Succeeded")
    with api.stream(
        "GET", f"/v1/videos/{video['id']}/events", headers={"Last-Event-ID": first_id}, timeout=60
    ) as response:
        missed = [data for _, _, data in read_events(response)]
    assert ("in_progress", 50) in [(data["status"], data["progress"]) for data in missed]
    assert missed[-1]["status"] == "completed" and first["status"] == "queued"


def test_cancel_suspends_the_render_and_ends_the_stream_as_cancelled(
    cluster, operator, create_tenant, start_gateway, helpers
):
    api = start_gateway().client(create_tenant(cluster.namespace))
    video = api.post("/v1/videos", json={"markdown": LECTURE, "quality": "low"}).json()
    job = cluster.wait_job(video["id"])
    cancelled = api.post(f"/v1/videos/{video['id']}/cancel").json()
    assert cancelled["status"] == "failed" and cancelled["error"]["code"] == "cancelled"
    helpers.wait_for(
        lambda: cluster.get("job", job["metadata"]["name"])["spec"].get("suspend") is True,
        20,
        "the operator to suspend the renderer Job",
    )
    with api.stream("GET", f"/v1/videos/{video['id']}/events", timeout=30) as response:
        events = list(read_events(response))
    assert [data["phase"] for _, _, data in events] == ["Cancelled"]  # terminal: the stream ends at once
    again = api.post(f"/v1/videos/{video['id']}/cancel")
    assert again.status_code == 409 and "already failed" in again.json()["error"]["message"]
