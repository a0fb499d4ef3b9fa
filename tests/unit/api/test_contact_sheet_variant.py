"""The contact sheet as a video's file: listed in ``content``, downloaded by ``variant=contact_sheet``."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from videojob.api.mapping import available_variants, content_key

LECTURE = "# Tides\n\nThe moon pulls the sea.\n"
PREFIX = "outputs/team-a/x/u/"
OUTPUT: dict[str, Any] = {
    "bucket": "videos",
    "key": PREFIX + "video.mp4",
    "sizeBytes": 1234,
    "sha256": "a" * 64,
    "durationSeconds": 31.5,
    "subtitles": {"vtt": PREFIX + "video.vtt", "srt": PREFIX + "video.srt"},
    "thumbnail": PREFIX + "thumbnail.png",
    "contactSheet": PREFIX + "contact-sheet.png",
}
OLDER_RENDERERS_OUTPUT = {key: value for key, value in OUTPUT.items() if key != "contactSheet"}


def _create(client, headers) -> str:
    answer = client.post("/v1/videos", json={"markdown": LECTURE, "quality": "low"}, headers=headers)
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


def test_the_contact_sheet_is_a_variant_only_when_the_renderer_stored_one():
    assert available_variants(OUTPUT) == ["video", "thumbnail", "contact_sheet", "vtt", "srt"]
    assert content_key(OUTPUT, "contact_sheet") == PREFIX + "contact-sheet.png"
    assert "contact_sheet" not in available_variants(OLDER_RENDERERS_OUTPUT)
    assert content_key(OLDER_RENDERERS_OUTPUT, "contact_sheet") is None


def test_a_finished_video_links_its_contact_sheet_and_redirects_to_a_presigned_url(client, kube, tenant_a, settings):
    video_id = _create(client, tenant_a)
    kube.set_status("team-a", video_id, phase="Succeeded", output=OUTPUT)
    video = client.get(f"/v1/videos/{video_id}", headers=tenant_a).json()
    link = f"/v1/videos/{video_id}/content?variant=contact_sheet"
    assert video["content"]["contact_sheet"] == link

    answer = client.get(link, headers=tenant_a, follow_redirects=False)
    assert answer.status_code == 302
    url = urlsplit(answer.headers["location"])
    assert f"{url.scheme}://{url.netloc}" == settings.s3_endpoint
    assert url.path == f"/videos/{PREFIX}contact-sheet.png"
    query = parse_qs(url.query)
    assert query["X-Amz-Expires"] == [str(settings.presign_seconds)] and "X-Amz-Signature" in query
    assert query["response-content-disposition"] == [f'inline; filename="{video_id}-contact-sheet.png"']

    as_json = client.get(link + "&redirect=false", headers=tenant_a).json()
    assert as_json["variant"] == "contact_sheet" and urlsplit(as_json["url"]).path == url.path


def test_openais_spritesheet_variant_is_the_contact_sheet(client, kube, tenant_a):
    video_id = _create(client, tenant_a)
    kube.set_status("team-a", video_id, phase="Succeeded", output=OUTPUT)
    answer = client.get(f"/v1/videos/{video_id}/content?variant=spritesheet&redirect=false", headers=tenant_a)
    assert answer.status_code == 200 and answer.json()["variant"] == "contact_sheet"
    assert urlsplit(answer.json()["url"]).path == f"/videos/{PREFIX}contact-sheet.png"
    assert "spritesheet" not in client.get(f"/v1/videos/{video_id}", headers=tenant_a).json()["content"]


def test_the_contact_sheet_before_the_video_is_ready_is_409_with_the_progress(client, kube, tenant_a):
    video_id = _create(client, tenant_a)
    kube.set_status("team-a", video_id, phase="Assembling", progress=80, stage="Assembling video")
    answer = client.get(f"/v1/videos/{video_id}/content?variant=contact_sheet", headers=tenant_a)
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "video_not_ready"
    assert "in_progress (80%, Assembling video)" in answer.json()["error"]["message"]


def test_a_video_from_an_older_renderer_has_no_contact_sheet_and_says_so(client, kube, tenant_a):
    video_id = _create(client, tenant_a)
    kube.set_status("team-a", video_id, phase="Succeeded", output=OLDER_RENDERERS_OUTPUT)
    video = client.get(f"/v1/videos/{video_id}", headers=tenant_a).json()
    assert set(video["content"]) == {"video", "thumbnail", "vtt", "srt"}
    answer = client.get(f"/v1/videos/{video_id}/content?variant=contact_sheet", headers=tenant_a)
    assert answer.status_code == 404
    error = answer.json()["error"]
    assert (error["code"], error["param"]) == ("variant_not_found", "variant")
    assert error["message"] == (
        f"video {video_id} has no contact_sheet file "
        "(it was rendered before contact sheets were made: render it again for one)"
    )


def test_the_openapi_document_offers_the_contact_sheet_variant(client):
    document = client.get("/openapi.json").json()
    operation = document["paths"]["/v1/videos/{video_id}/content"]["get"]
    variant = next(parameter for parameter in operation["parameters"] if parameter["name"] == "variant")
    assert "contact_sheet" in variant["schema"]["enum"]
    assert "contact_sheet" in variant["description"]
    assert {"302", "404", "409"} <= set(operation["responses"])
