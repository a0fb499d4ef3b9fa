"""Status reads from the watched copy: fresh after every change, the caller's own writes at once,
no API round trip per read, and what the copy does not hold asked of the API server."""

from __future__ import annotations

import asyncio

import pytest

from videojob.api.cache import VideoCache
from videojob.api.kube import ApiServerError

from .conftest import MemoryKube

LECTURE = "# Tides\n\n" + "The moon pulls the sea. " * 2000


def _videojob(name: str) -> dict:
    return {"metadata": {"name": name}, "spec": {"source": {"markdown": LECTURE}, "quality": "low"}}


async def _until(check, timeout: float = 2.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "the copy did not catch up"
        await asyncio.sleep(0.01)


def test_reads_follow_the_watch_without_asking_the_api_server():
    async def scenario() -> None:
        kube = MemoryKube()
        await kube.create_videojob("team-a", _videojob("video-1"))
        cache = VideoCache(kube)  # type: ignore[arg-type]
        assert (await cache.get("team-a", "video-1"))["metadata"]["name"] == "video-1"
        await _until(lambda: cache.copies["team-a"].synced)
        kube.set_status("team-a", "video-1", phase="Rendering", progress=40)
        await _until(lambda: (cache.copies["team-a"].items["video-1"].get("status") or {}).get("progress") == 40)
        before = len(kube.calls)
        for _ in range(50):
            assert (await cache.get("team-a", "video-1"))["status"]["progress"] == 40
        assert len(kube.calls) == before  # fifty reads, no round trip
        assert "markdown" not in cache.copies["team-a"].items["video-1"]["spec"]["source"]  # the lecture is not kept
        await cache.close()

    asyncio.run(scenario())


def test_a_new_video_and_an_unknown_one_are_asked_of_the_api_server():
    async def scenario() -> None:
        kube = MemoryKube()
        cache = VideoCache(kube)  # type: ignore[arg-type]
        with pytest.raises(ApiServerError) as missing:
            await cache.get("team-a", "video-nope")
        assert missing.value.status == 404
        await _until(lambda: cache.copies["team-a"].synced)
        created = await kube.create_videojob("team-a", _videojob("video-2"))
        cache.wrote(created)  # the gateway's own write: visible to its next read
        assert (await cache.get("team-a", "video-2"))["metadata"]["name"] == "video-2"
        await kube.delete_videojob("team-a", "video-2")
        cache.deleted("team-a", "video-2")
        with pytest.raises(ApiServerError):
            await cache.get("team-a", "video-2")
        await cache.close()

    asyncio.run(scenario())
