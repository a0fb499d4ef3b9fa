"""The operator's cache sweep (operator/cache_expiry.py) against a real MinIO and the real renderer CLI.

A retention of seconds here (the setting refuses under 10 minutes; the sweeper itself takes any):
an entry unused past it is gone, an entry a render used meanwhile stays, nothing outside the
cache's entries is touched, and the next render draws again what was removed, a half-removed entry
included (as when a sweep removes an entry while a render reads it), and succeeds.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, cast

import kopf
import pytest

from videojob.contract import Result, parse_termination_message
from videojob.operator.cache_expiry import CacheSweeper
from videojob.operator.cleanup import start_cache_sweep, stop_cache_sweep
from videojob.operator.settings import get_settings
from videojob.renderer.cache import SceneCache
from videojob.renderer.pipeline import scene_keys
from videojob.renderer.settings import RendererSettings
from videojob.renderer.sources import resolve_job
from videojob.renderer.storage import S3Access

pytestmark = pytest.mark.minio

VIDEOJOB = Path(sys.executable).parent / "videojob"
RETENTION = 6.0
# Objects a sweep must leave alone: the outputs beside the cache, names that only look like it.
BYSTANDERS = [
    "outputs/team-a/lesson/uid/video.mp4",
    "cached/scenes/" + "c" * 64 + "/manifest.json",
    "cache-old/scenes/" + "c" * 64 + "/manifest.json",
    "cache/README.txt",
    "cache/thumbnails/" + "c" * 64 + "/x.png",
]


@pytest.fixture
def bucket(minio_server):
    """A bucket of its own in the session's MinIO: the sweep lists and removes under its cache/."""
    name = f"retention-{uuid.uuid4().hex[:12]}"
    minio_server.client().make_bucket(name)
    return name


def _storyboard(path: Path) -> Path:
    scenes = [
        {"narration": f"Part {n} is short.", "visual": {"kind": "title_card", "title": f"Kept {n}"}} for n in (1, 2, 3)
    ]
    path.write_text(json.dumps({"title": "Retention", "scenes": scenes}))
    return path


def _render(minio_server, bucket: str, source: Path, tmp_path: Path, run: str) -> Result:
    env = {
        **os.environ,
        "PYTHONSAFEPATH": "1",
        "VIDEOJOB_TERMINATION_LOG": str(tmp_path / f"{run}.termination"),
        "VIDEOJOB_PROGRESS": "none",
        "VIDEOJOB_S3_ENDPOINT": minio_server.url,
        "VIDEOJOB_S3_ACCESS_KEY": minio_server.access_key,
        "VIDEOJOB_S3_SECRET_KEY": minio_server.secret_key,
    }
    command = [str(VIDEOJOB), "render", str(source), "--quality", "low", "--voice", "espeak"]
    command += ["--cache", f"s3://{bucket}/cache", "-o", f"file://{tmp_path / run}"]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    message = parse_termination_message((tmp_path / f"{run}.termination").read_text())
    assert isinstance(message, Result)
    return message


def _keys(minio_server, bucket: str, source: Path) -> list[str]:
    settings = RendererSettings(
        quality="low",
        voice="espeak",
        cache=f"s3://{bucket}/cache",
        output="file://unused",
        s3_endpoint=minio_server.url,
        s3_access_key=minio_server.access_key,
        s3_secret_key=minio_server.secret_key,
    )
    job = resolve_job(source, None, settings)
    return scene_keys(job.storyboard, job.config)


def _listing(minio_server, bucket: str) -> dict[str, tuple[str, float]]:
    objects = minio_server.client().list_objects(bucket, recursive=True)
    return {item.object_name: (item.etag, item.last_modified.timestamp()) for item in objects}


def _cache(minio_server, bucket: str) -> SceneCache:
    access = S3Access(minio_server.url, minio_server.access_key, minio_server.secret_key)
    return SceneCache.open(f"s3://{bucket}/cache", access)


def _put(minio_server, bucket: str, name: str) -> None:
    minio_server.client().put_object(bucket, name, io.BytesIO(b"kept"), 4)


def test_unused_entries_go_used_ones_stay_and_the_next_render_draws_the_rest_again(minio_server, bucket, tmp_path):
    source = _storyboard(tmp_path / "storyboard.json")
    first = _render(minio_server, bucket, source, tmp_path, "first")
    assert first.usage.scenes_rendered == 3
    used, unused, half = _keys(minio_server, bucket, source)
    for name in BYSTANDERS:
        _put(minio_server, bucket, name)
    written = max(modified for _, modified in _listing(minio_server, bucket).values())

    time.sleep(RETENTION / 2)
    cache = _cache(minio_server, bucket)
    # Two renders use scenes 1 and 3 meanwhile (a hit: what finish_scenes does).
    assert cache.fetch_scene(used, tmp_path / "used") and cache.fetch_scene(half, tmp_path / "half")
    time.sleep(max(0.0, written + RETENTION + 1.0 - time.time()))
    before = _listing(minio_server, bucket)

    sweeper = CacheSweeper(minio_server.client(), bucket, RETENTION)
    report = sweeper.sweep()

    after = _listing(minio_server, bucket)
    assert {name: before[name] for name in BYSTANDERS} == {name: after[name] for name in BYSTANDERS}
    left = {name.split("/")[1] + "/" + name.split("/")[2] for name in after if name.startswith("cache/scenes/")}
    assert left == {f"scenes/{used}", f"scenes/{half}"}, "the unused scene goes, the used ones stay"
    assert not any(name.startswith("cache/videos/") for name in after), "the assembled video was not used"
    assert sum(name.startswith(f"cache/scenes/{used}/") for name in after) == 4, "a kept entry keeps every file"
    assert (report.removed_entries, report.removed_objects, report.failed_objects) == (2, 4 + 5, 0)
    assert report.listed == len(before) - 3  # everything under cache/, the two look-alikes outside it excepted

    # A sweep that removed scene 3's video while a render read it: the next render finds it half there.
    minio_server.client().remove_object(bucket, f"cache/scenes/{half}/scene.mp4")
    again = _render(minio_server, bucket, source, tmp_path, "again")
    assert (again.usage.scenes_cached, again.usage.scenes_rendered) == (1, 2)
    assert again.output.duration_seconds == pytest.approx(first.output.duration_seconds, abs=0.1)
    scenes = {name for name in _listing(minio_server, bucket) if name.startswith("cache/scenes/")}
    assert {f"cache/scenes/{key}/scene.mp4" for key in (used, unused, half)} <= scenes, "stored whole again"


def test_the_operator_sweeps_at_start_up_removing_the_speech_a_finished_fan_out_handed_over(
    minio_server, bucket, tmp_path, monkeypatch
):
    source = _storyboard(tmp_path / "storyboard.json")
    _render(minio_server, bucket, source, tmp_path, "first")
    drawn = _keys(minio_server, bucket, source)[0]
    never_drawn = "d" * 64
    # What a fan-out's share Pod leaves behind (renderer/join_ahead.py's layout, written here by the test):
    # the speech of a scene that is now cached, and of one its failed fan-out never drew.
    for key in (drawn, never_drawn):
        _put(minio_server, bucket, f"cache/spoken/{key}/speech.wav")
        _put(minio_server, bucket, f"cache/spoken/{key}/manifest.json")
    for name, value in {
        "VIDEOJOB_CACHE_RETENTION": "30d",
        "VIDEOJOB_S3_ENDPOINT": minio_server.url,
        "VIDEOJOB_S3_BUCKET": bucket,
        "VIDEOJOB_S3_ACCESS_KEY": minio_server.access_key,
        "VIDEOJOB_S3_SECRET_KEY": minio_server.secret_key,
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()

    async def operator_runs_a_moment() -> None:
        memo = kopf.Memo()
        await cast(Any, start_cache_sweep)(memo=memo)  # as kopf calls it at start-up (typed as kopf's callback)
        assert memo.cache_sweep is not None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _has(minio_server, bucket, f"cache/spoken/{drawn}/"):
            await asyncio.sleep(0.1)
        await cast(Any, stop_cache_sweep)(memo=memo)
        assert memo.cache_sweep.done()

    try:
        asyncio.run(operator_runs_a_moment())
    finally:
        get_settings.cache_clear()
    names = set(_listing(minio_server, bucket))
    assert not any(name.startswith(f"cache/spoken/{drawn}/") for name in names), "its scene is cached: it goes"
    assert f"cache/spoken/{never_drawn}/speech.wav" in names, "younger than an hour: it may still be read"
    assert sum(name.startswith("cache/scenes/") for name in names) == 12, "a month's retention keeps every scene"


def _has(minio_server, bucket: str, prefix: str) -> bool:
    return any(True for _ in minio_server.client().list_objects(bucket, prefix=prefix, recursive=True))
