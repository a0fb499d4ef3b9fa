"""GET /v1/videos/{id}/events: one event per visible change, the end after a terminal state, resumable."""

from __future__ import annotations

import json

LECTURE = "# Tides\n\nThe moon pulls the sea.\n"
OUTPUT = {"bucket": "videos", "key": "k/video.mp4", "sizeBytes": 1, "sha256": "a" * 64, "durationSeconds": 20.0}


def _events(text: str) -> list[tuple[str | None, str, dict]]:
    parsed = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "data" in fields:
            parsed.append((fields.get("id"), fields["event"], json.loads(fields["data"])))
    return parsed


def test_a_finished_video_streams_one_event_and_ends(client, kube, tenant_a):
    video_id = client.post("/v1/videos", json={"markdown": LECTURE}, headers=tenant_a).json()["id"]
    kube.set_status("team-a", video_id, phase="Succeeded", output=OUTPUT)
    answer = client.get(f"/v1/videos/{video_id}/events", headers=tenant_a)
    assert answer.headers["content-type"].startswith("text/event-stream")
    events = _events(answer.text)
    assert [(kind, data["status"]) for _, kind, data in events] == [("video", "completed")]


def test_last_event_id_replays_every_change_after_it_once(client, kube, tenant_a):
    created = client.post("/v1/videos", json={"markdown": LECTURE}, headers=tenant_a).json()
    video_id = created["id"]
    first = kube.objects[("team-a", video_id)]["metadata"]["resourceVersion"]
    kube.set_status("team-a", video_id, phase="Rendering", progress=30, stage="Rendering scene 1/3")
    kube.set_status(
        "team-a",
        video_id,
        phase="Rendering",
        progress=30,
        stage="Rendering scene 1/3",
        conditions=[{"type": "Progressing"}],
    )  # nothing a user sees: no event
    kube.set_status("team-a", video_id, phase="Rendering", progress=60, stage="Rendering scene 2/3")
    kube.set_status("team-a", video_id, phase="Succeeded", progress=100, stage="Done", output=OUTPUT)
    answer = client.get(f"/v1/videos/{video_id}/events", headers=tenant_a | {"Last-Event-ID": first})
    events = _events(answer.text)
    assert [(data["status"], data["progress"]) for _, _, data in events] == [
        ("in_progress", 30),
        ("in_progress", 60),
        ("completed", 100),
    ]
    ids = [int(event_id or 0) for event_id, _, _ in events]
    assert ids == sorted(ids) and ids[0] > int(first)


def test_a_deleted_video_ends_its_stream_with_a_deleted_event(client, kube, tenant_a):
    video_id = client.post("/v1/videos", json={"markdown": LECTURE}, headers=tenant_a).json()["id"]
    first = kube.objects[("team-a", video_id)]["metadata"]["resourceVersion"]
    kube.set_status("team-a", video_id, phase="Rendering", progress=5, stage="Rendering scene 1/3")
    client.delete(f"/v1/videos/{video_id}", headers=tenant_a)
    kube.objects[("team-a", video_id)] = kube.history[-2]["object"]  # the stream's first read still finds it
    events = _events(client.get(f"/v1/videos/{video_id}/events", headers=tenant_a | {"Last-Event-ID": first}).text)
    assert [kind for _, kind, _ in events] == ["video", "deleted"]


def test_a_broken_watch_is_resumed_from_the_last_version_without_losing_a_change(client, kube, tenant_a):
    from videojob.api.kube import ApiServerUnavailable

    video_id = client.post("/v1/videos", json={"markdown": LECTURE}, headers=tenant_a).json()["id"]
    first = kube.objects[("team-a", video_id)]["metadata"]["resourceVersion"]
    kube.set_status("team-a", video_id, phase="Rendering", progress=40, stage="Rendering scene 2/3")
    kube.set_status("team-a", video_id, phase="Succeeded", progress=100, stage="Done", output=OUTPUT)
    watch = kube.watch_videojob
    broken: list[str | None] = []

    async def breaks_once(namespace, name, resource_version, timeout_seconds=3600):
        if not broken:
            broken.append(resource_version)
            raise ApiServerUnavailable("connection reset by the API server")
        async for event in watch(namespace, name, resource_version, timeout_seconds):
            yield event

    kube.watch_videojob = breaks_once
    events = _events(client.get(f"/v1/videos/{video_id}/events", headers=tenant_a | {"Last-Event-ID": first}).text)
    assert broken == [first]
    assert [(data["status"], data["progress"]) for _, _, data in events] == [("in_progress", 40), ("completed", 100)]
