"""POST /v1/videos: what a caller sees for good and bad requests."""

from __future__ import annotations

from videojob import limits as L

LECTURE = "# Waves\n\nA wave carries energy.\n\n## Frequency\n\n- cycles per second\n"


def test_a_markdown_lecture_is_accepted_with_202_a_location_and_a_queued_video(client, kube, tenant_a):
    answer = client.post(
        "/v1/videos", json={"markdown": LECTURE, "quality": "low", "theme": "physics"}, headers=tenant_a
    )
    assert answer.status_code == 202, answer.text
    video = answer.json()
    assert answer.headers["location"].endswith(f"/v1/videos/{video['id']}")
    assert video["object"] == "video" and video["status"] == "queued" and video["progress"] == 0
    assert video["size"] == "854x480" and video["quality"] == "low"
    stored = kube.objects[("team-a", video["id"])]
    assert stored["spec"]["source"] == {"markdown": LECTURE}
    assert stored["spec"]["theme"] == "physics" and stored["spec"]["quality"] == "low"


def test_size_picks_the_quality_and_seconds_is_the_target_duration(client, kube, tenant_a):
    video = client.post(
        "/v1/videos", json={"markdown": LECTURE, "size": "1920x1080", "seconds": "45"}, headers=tenant_a
    ).json()
    spec = kube.objects[("team-a", video["id"])]["spec"]
    assert spec["quality"] == "high" and spec["durationSeconds"] == 45
    assert video["seconds"] == "45" and video["size"] == "1920x1080"


def test_a_portrait_size_makes_a_portrait_video(client, kube, tenant_a):
    answer = client.post("/v1/videos", json={"markdown": LECTURE, "size": "720x1280"}, headers=tenant_a)
    assert answer.status_code == 202
    assert answer.json()["size"] == "720x1280" and answer.json()["quality"] == "medium"
    [videojob] = kube.objects.values()
    assert videojob["spec"]["orientation"] == "portrait" and videojob["spec"]["quality"] == "medium"


def test_a_size_the_orientation_contradicts_is_refused_naming_orientation(client, kube, tenant_a):
    body = {"markdown": LECTURE, "size": "1920x1080", "orientation": "portrait"}
    answer = client.post("/v1/videos", json=body, headers=tenant_a)
    assert answer.status_code == 422
    assert answer.json()["error"]["param"] == "orientation" and "landscape" in answer.json()["error"]["message"]
    assert not kube.objects


def test_an_unknown_size_is_refused_listing_the_sizes_we_render(client, tenant_a):
    answer = client.post("/v1/videos", json={"markdown": LECTURE, "size": "1024x1792"}, headers=tenant_a)
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["param"] == "size" and "1080x1920 (high, portrait)" in error["message"]


def test_two_sources_are_refused_naming_the_source(client, kube, tenant_a):
    answer = client.post(
        "/v1/videos", json={"markdown": LECTURE, "prompt": "Explain waves to a child"}, headers=tenant_a
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["param"] == "prompt"
    assert "exactly one of prompt, markdown or storyboard" in answer.json()["error"]["message"]
    assert not kube.objects  # nothing half-created


def test_a_duration_outside_the_spec_limits_is_refused_naming_seconds(client, tenant_a):
    answer = client.post(
        "/v1/videos", json={"markdown": LECTURE, "seconds": L.DURATION_SECONDS_MAX + 1}, headers=tenant_a
    )
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["param"] == "seconds" and str(L.DURATION_SECONDS_MAX) in error["message"]


def test_an_unknown_field_is_refused_naming_it(client, tenant_a):
    answer = client.post("/v1/videos", json={"markdown": LECTURE, "colour": "blue"}, headers=tenant_a)
    assert answer.status_code == 422 and answer.json()["error"]["param"] == "colour"


def test_an_oversized_body_is_413_and_creates_nothing(client, kube, tenant_a, settings):
    answer = client.post("/v1/videos", json={"markdown": "x" * (settings.max_body_bytes + 1)}, headers=tenant_a)
    assert answer.status_code == 413 and answer.json()["error"]["code"] == "request_too_large"
    assert not kube.objects


def test_a_wrong_content_type_is_415(client, tenant_a):
    answer = client.post("/v1/videos", content=LECTURE, headers=tenant_a | {"Content-Type": "text/markdown"})
    assert answer.status_code == 415 and "application/json" in answer.json()["error"]["message"]


def test_the_openai_clients_multipart_form_is_read_with_nested_fields(client, kube, tenant_a):
    form = {
        "prompt": "Explain how rainbows form",
        "seconds": "30",
        "size": "1280x720",
        "voice[provider]": "espeak",
        "voice[name]": "en-gb",
        "theme": "physics",
    }
    boundary = "vj-test-boundary"
    body = (
        "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in form.items()
        )
        + f"--{boundary}--\r\n"
    )
    content_type = f"multipart/form-data; boundary={boundary}"
    answer = client.post("/v1/videos", content=body.encode(), headers=tenant_a | {"Content-Type": content_type})
    assert answer.status_code == 202, answer.text
    spec = kube.objects[("team-a", answer.json()["id"])]["spec"]
    assert spec["voice"] == {"provider": "espeak", "name": "en-gb"} and spec["durationSeconds"] == 30
    assert spec["llm"]["provider"] == "openai"  # a prompt needs the LLM the gateway is configured with


def test_the_same_idempotency_key_and_body_answer_the_same_video(client, kube, tenant_a):
    headers = tenant_a | {"Idempotency-Key": "lesson-42"}
    first = client.post("/v1/videos", json={"markdown": LECTURE}, headers=headers)
    second = client.post("/v1/videos", json={"markdown": LECTURE}, headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"] and second.headers["idempotent-replayed"] == "true"
    assert len(kube.objects) == 1


def test_the_same_idempotency_key_with_another_body_is_409(client, kube, tenant_a):
    headers = tenant_a | {"Idempotency-Key": "lesson-42"}
    client.post("/v1/videos", json={"markdown": LECTURE}, headers=headers)
    answer = client.post("/v1/videos", json={"markdown": LECTURE + "\nMore.\n"}, headers=headers)
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "idempotency_key_reused"
    assert len(kube.objects) == 1


def test_the_same_idempotency_key_in_two_tenants_makes_two_videos(client, kube, tenant_a, tenant_b):
    for tenant in (tenant_a, tenant_b):
        assert (
            client.post("/v1/videos", json={"markdown": LECTURE}, headers=tenant | {"Idempotency-Key": "k"}).status_code
            == 202
        )
    assert {namespace for namespace, _ in kube.objects} == {"team-a", "team-b"}


def test_the_rate_limit_answers_429_with_retry_after_and_ratelimit_headers(client, tenant_a, tenant_b, settings):
    answers = [
        client.post("/v1/videos", json={"markdown": LECTURE}, headers=tenant_a) for _ in range(settings.rate_burst + 1)
    ]
    assert [a.status_code for a in answers] == [202] * settings.rate_burst + [429]
    refused = answers[-1]
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) >= 1 and refused.headers["ratelimit-remaining"] == "0"
    assert answers[0].headers["ratelimit-limit"] == str(settings.rate_burst)
    assert client.post("/v1/videos", json={"markdown": LECTURE}, headers=tenant_b).status_code == 202  # per tenant
    metrics = client.get("/metrics").text
    assert 'videojob_gateway_rate_limited_total{tenant="team-a"} 1.0' in metrics


def test_the_api_servers_quota_refusal_is_a_clear_429(client, kube, tenant_a):
    kube.quota["team-a"] = 1
    assert client.post("/v1/videos", json={"markdown": LECTURE}, headers=tenant_a).status_code == 202
    answer = client.post("/v1/videos", json={"markdown": LECTURE}, headers=tenant_a)
    assert answer.status_code == 429 and answer.json()["error"]["code"] == "quota_exceeded"
    assert "already has 1 of its 1 videos" in answer.json()["error"]["message"]
    assert 'videojob_gateway_quota_refused_total{kind="in_progress",tenant="team-a"} 1.0' in client.get("/metrics").text


def test_an_empty_prompt_counts_as_none_so_the_openai_client_can_send_a_lecture(client, kube, tenant_a):
    answer = client.post("/v1/videos", json={"prompt": "", "markdown": LECTURE}, headers=tenant_a)
    assert answer.status_code == 202, answer.text
    assert kube.objects[("team-a", answer.json()["id"])]["spec"]["source"] == {"markdown": LECTURE}


def test_the_daily_cap_refuses_with_a_clear_429_and_when_to_retry(client, app, settings, tenant_a):
    from videojob.api.dependencies import get_settings

    capped = settings.model_copy(update={"daily_cap": 2})
    app.dependency_overrides[get_settings] = lambda: capped
    assert [client.post("/v1/videos", json={"markdown": LECTURE}, headers=tenant_a).status_code for _ in range(2)] == [
        202,
        202,
    ]
    refused = client.post("/v1/videos", json={"markdown": LECTURE}, headers=tenant_a)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "daily_cap_exceeded"
    assert "2 videos in the last 24 hours" in refused.json()["error"]["message"]
    assert 0 < int(refused.headers["retry-after"]) <= 86400
