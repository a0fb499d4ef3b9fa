"""Reading, listing, cancelling, deleting and downloading a video, and what each says before it is ready."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

LECTURE = "# Tides\n\nThe moon pulls the sea.\n"
OUTPUT: dict[str, Any] = {
    "bucket": "videos",
    "key": "outputs/team-a/x/u/video.mp4",
    "sizeBytes": 1234,
    "sha256": "a" * 64,
    "durationSeconds": 31.5,
    "subtitles": {"vtt": "outputs/team-a/x/u/video.vtt", "srt": "outputs/team-a/x/u/video.srt"},
    "thumbnail": "outputs/team-a/x/u/thumbnail.png",
}


def _create(client, headers) -> str:
    answer = client.post("/v1/videos", json={"markdown": LECTURE, "quality": "low"}, headers=headers)
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


def test_a_rendering_video_reads_in_progress_with_stage_and_eta(client, kube, tenant_a):
    video_id = _create(client, tenant_a)
    kube.set_status(
        "team-a",
        video_id,
        phase="Rendering",
        progress=40,
        stage="Rendering scene 3/7",
        estimatedCompletionTime="2030-01-01T00:00:00Z",
    )
    video = client.get(f"/v1/videos/{video_id}", headers=tenant_a).json()
    assert (video["status"], video["progress"], video["stage"]) == ("in_progress", 40, "Rendering scene 3/7")
    assert video["estimated_completion_at"] == 1893456000 and video["content"] is None


def test_a_failed_video_carries_the_videojobs_message(client, kube, tenant_a):
    video_id = _create(client, tenant_a)
    kube.set_status(
        "team-a",
        video_id,
        phase="Failed",
        completionTime="2030-01-01T00:00:00Z",
        failure={"reason": "InvalidStoryboard", "message": "scene 2: a bullet list needs at least one item"},
    )
    video = client.get(f"/v1/videos/{video_id}", headers=tenant_a).json()
    assert video["status"] == "failed" and video["completed_at"] == 1893456000
    assert video["error"] == {"code": "InvalidStoryboard", "message": "scene 2: a bullet list needs at least one item"}


def test_an_unknown_video_is_404_naming_video_id(client, tenant_a):
    answer = client.get("/v1/videos/video-nope", headers=tenant_a)
    assert answer.status_code == 404 and answer.json()["error"]["param"] == "video_id"
    assert client.get("/v1/videos/..", headers=tenant_a).status_code == 404


def test_the_list_pages_newest_first_with_the_cursor_in_last_id(client, tenant_a):
    created = [_create(client, tenant_a) for _ in range(5)]
    first = client.get("/v1/videos?limit=2", headers=tenant_a).json()
    assert first["has_more"] is True and [v["id"] for v in first["data"]] == created[::-1][:2]
    seen = [v["id"] for v in first["data"]]
    cursor = first["last_id"]
    while cursor:
        page = client.get("/v1/videos", params={"limit": 2, "after": cursor}, headers=tenant_a).json()
        seen += [v["id"] for v in page["data"]]
        cursor = page["last_id"] if page["has_more"] else None
    assert seen == created[::-1]


def test_a_bad_cursor_is_422_naming_after(client, tenant_a):
    _create(client, tenant_a)
    answer = client.get("/v1/videos?after=%%%", headers=tenant_a)
    assert answer.status_code == 422 and answer.json()["error"]["param"] == "after"


def test_a_limit_over_100_is_422_naming_limit(client, tenant_a):
    answer = client.get("/v1/videos?limit=1000", headers=tenant_a)
    assert answer.status_code == 422 and answer.json()["error"]["param"] == "limit"


def test_cancel_suspends_the_videojob_and_the_video_reads_failed_cancelled(client, kube, tenant_a):
    video_id = _create(client, tenant_a)
    video = client.post(f"/v1/videos/{video_id}/cancel", headers=tenant_a).json()
    assert kube.objects[("team-a", video_id)]["spec"]["suspend"] is True
    assert video["status"] == "failed" and video["error"]["code"] == "cancelled" and video["phase"] == "Cancelled"


def test_cancelling_a_finished_video_is_409(client, kube, tenant_a):
    video_id = _create(client, tenant_a)
    kube.set_status("team-a", video_id, phase="Succeeded", output=OUTPUT)
    answer = client.post(f"/v1/videos/{video_id}/cancel", headers=tenant_a)
    assert answer.status_code == 409 and "already completed" in answer.json()["error"]["message"]


def test_delete_removes_the_videojob(client, kube, tenant_a):
    video_id = _create(client, tenant_a)
    answer = client.delete(f"/v1/videos/{video_id}", headers=tenant_a)
    assert answer.json() == {"id": video_id, "object": "video.deleted", "deleted": True}
    assert ("team-a", video_id) not in kube.objects
    assert client.delete(f"/v1/videos/{video_id}", headers=tenant_a).status_code == 404


def test_content_before_it_is_ready_is_409_with_the_progress(client, kube, tenant_a):
    video_id = _create(client, tenant_a)
    kube.set_status("team-a", video_id, phase="Rendering", progress=10, stage="Rendering scene 1/3")
    answer = client.get(f"/v1/videos/{video_id}/content", headers=tenant_a)
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "video_not_ready"
    assert "in_progress (10%, Rendering scene 1/3)" in answer.json()["error"]["message"]


def test_content_redirects_to_a_presigned_url_of_each_variant(client, kube, tenant_a, settings):
    video_id = _create(client, tenant_a)
    kube.set_status("team-a", video_id, phase="Succeeded", output=OUTPUT)
    video = client.get(f"/v1/videos/{video_id}", headers=tenant_a).json()
    assert set(video["content"]) == {"video", "thumbnail", "vtt", "srt"}
    assert video["output"]["sha256"] == "a" * 64
    for variant, key in (
        ("video", OUTPUT["key"]),
        ("vtt", OUTPUT["subtitles"]["vtt"]),
        ("thumbnail", OUTPUT["thumbnail"]),
    ):
        answer = client.get(
            f"/v1/videos/{video_id}/content", params={"variant": variant}, headers=tenant_a, follow_redirects=False
        )
        assert answer.status_code == 302
        url = urlsplit(answer.headers["location"])
        assert f"{url.scheme}://{url.netloc}" == settings.s3_endpoint and url.path == f"/videos/{key}"
        query = parse_qs(url.query)
        assert query["X-Amz-Expires"] == [str(settings.presign_seconds)] and "X-Amz-Signature" in query


def test_an_unknown_variant_is_422_naming_variant(client, tenant_a):
    video_id = _create(client, tenant_a)
    answer = client.get(f"/v1/videos/{video_id}/content?variant=poster", headers=tenant_a)
    assert answer.status_code == 422 and answer.json()["error"]["param"] == "variant"


def test_content_with_redirect_false_answers_the_url_as_json(client, kube, tenant_a):
    video_id = _create(client, tenant_a)
    kube.set_status("team-a", video_id, phase="Succeeded", output=OUTPUT)
    answer = client.get(f"/v1/videos/{video_id}/content?variant=srt&redirect=false", headers=tenant_a)
    assert answer.status_code == 200 and urlsplit(answer.json()["url"]).path == f"/videos/{OUTPUT['subtitles']['srt']}"
