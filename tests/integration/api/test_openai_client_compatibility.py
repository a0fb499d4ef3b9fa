"""A program written for OpenAI's Videos API runs unchanged against the gateway: the real
``openai`` client (the locked version) with ``base_url`` at the gateway and a tenant's key."""

from __future__ import annotations

import hashlib
import threading

import openai
import pytest

from support import wait_for

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.minio,
    # The client marks its video methods deprecated (OpenAI's hosted service closed); programs still call them.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

LECTURE = "# Rainbows\n\nLight bends in a raindrop.\n"


def test_create_and_poll_retrieve_list_download_delete(
    cluster, operator, renderer, create_tenant, start_gateway, request
):
    gateway = start_gateway()
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=create_tenant(cluster.namespace), max_retries=0)
    request.addfinalizer(client.close)  # its pooled connections (to the gateway and to MinIO) are closed

    started: dict[str, object] = {}

    def stand_in() -> None:
        # create_and_poll returns only at the end, so the stand-in finds the video by listing.
        name = wait_for(lambda: renderer.cluster.get("vj")["items"], 30, "the VideoJob")[0]["metadata"]["name"]
        pod = renderer.start(name)
        renderer.progress(pod, "Rendering", 50, "Rendering scene 1/1")
        started["result"] = renderer.succeed(pod, name)

    worker = threading.Thread(target=stand_in, daemon=True)
    worker.start()
    video = client.videos.create_and_poll(
        prompt="",
        seconds="20",  # type: ignore[arg-type]  # OpenAI's 4/8/12 s are below the shortest explainer (15 s)
        size="854x480",  # type: ignore[arg-type]  # the gateway's sizes are its quality presets
        poll_interval_ms=300,
        extra_body={"markdown": LECTURE, "theme": "physics"},
    )
    worker.join(30)
    assert video.status == "completed" and video.progress == 100 and video.object == "video"
    assert video.size == "854x480" and video.seconds == "20"
    spec = cluster.get("vj", video.id)["spec"]
    assert spec["quality"] == "low" and spec["durationSeconds"] == 20 and spec["theme"] == "physics"

    assert client.videos.retrieve(video.id).status == "completed"
    assert [item.id for item in client.videos.list()] == [video.id]
    content = client.videos.download_content(video.id, variant="video").read()
    assert hashlib.sha256(content).hexdigest() == started["result"].output.sha256
    assert client.videos.download_content(video.id, variant="thumbnail").read().startswith(b"\x89PNG")
    assert client.videos.download_content(video.id, variant="spritesheet").read() == renderer.contact_sheet
    deleted = client.videos.delete(video.id)
    assert deleted.deleted is True and deleted.id == video.id
    with pytest.raises(openai.NotFoundError):
        client.videos.retrieve(video.id)


def test_a_prompt_becomes_an_llm_videojob_and_errors_reach_the_client(cluster, create_tenant, start_gateway):
    gateway = start_gateway()
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=create_tenant(cluster.namespace), max_retries=0)
    video = client.videos.create(
        prompt="Explain how rainbows form, for children",
        seconds="30",  # type: ignore[arg-type]  # at least 15 s
        size="1280x720",
    )
    assert video.status == "queued"
    spec = cluster.get("vj", video.id)["spec"]
    assert (
        spec["source"] == {"prompt": "Explain how rainbows form, for children"} and spec["llm"]["provider"] == "openai"
    )
    assert spec["quality"] == "medium" and spec["durationSeconds"] == 30

    upright = client.videos.create(prompt="Explain tides to a child", size="720x1280")
    assert upright.size == "720x1280" and cluster.get("vj", upright.id)["spec"]["orientation"] == "portrait"
    with pytest.raises(openai.UnprocessableEntityError) as refused:
        client.videos.create(prompt="Explain tides to a child", size="1024x1792")
    error = refused.value.body
    assert isinstance(error, dict) and error["param"] == "size" and "720x1280 (medium, portrait)" in error["message"]
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(
            base_url=f"{gateway.url}/v1", api_key="vj_000000000000_" + "A" * 43, max_retries=0
        ).videos.retrieve(video.id)
