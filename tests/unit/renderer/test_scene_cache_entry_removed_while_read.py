"""The cache's retention may remove an entry between its lookup and its use: a use marks the entry
used, and an entry found gone or half-gone is a miss (drawn again), never a failed render."""

import os

from videojob.renderer.cache import CACHE_VERSION, MANIFEST, SCENE_FILES, SceneCache, SceneEntry
from videojob.renderer.storage import S3Access

ENTRY = SceneEntry(version=CACHE_VERSION, files=SCENE_FILES, voice="espeak", frames=30, fps=15, speech_samples=100)


def _stored(tmp_path, *, best_effort=True):
    cache = SceneCache.open(f"file://{tmp_path / 'cache'}", S3Access("http://127.0.0.1:9"), best_effort=best_effort)
    made = tmp_path / "made"
    made.mkdir()
    files = {role: made / name for role, name in SCENE_FILES.items()}
    for path in files.values():
        path.write_bytes(b"x")
    cache.put_scene("k", files, ENTRY)
    return cache, tmp_path / "cache" / "scenes" / "k"


def test_fetching_a_scene_marks_it_used(tmp_path):
    cache, folder = _stored(tmp_path)
    long_ago = 1_000_000_000
    os.utime(folder / MANIFEST, (long_ago, long_ago))
    assert cache.scene("k") is not None
    assert (folder / MANIFEST).stat().st_mtime == long_ago, "a lookup alone is not a use"
    assert cache.fetch_scene("k", tmp_path / "fetched")
    assert (folder / MANIFEST).stat().st_mtime > long_ago


def test_a_scene_whose_file_went_after_the_lookup_is_a_miss_even_for_a_fan_out(tmp_path):
    cache, folder = _stored(tmp_path, best_effort=False)  # a fan-out's share fails on S3 errors, not on this
    assert cache.scene("k") is not None
    (folder / SCENE_FILES["video"]).unlink()
    assert cache.fetch_scene("k", tmp_path / "fetched") is False


def test_a_scene_whose_manifest_went_after_the_lookup_is_a_miss(tmp_path):
    cache, folder = _stored(tmp_path)
    assert cache.scene("k") is not None
    (folder / MANIFEST).unlink()
    assert cache.fetch_scene("k", tmp_path / "fetched") is False
    assert not (folder / MANIFEST).exists(), "marking it used must not bring a removed entry back"


def test_a_scene_picture_marks_the_scene_used(tmp_path):
    cache, folder = _stored(tmp_path)
    os.utime(folder / MANIFEST, (1_000_000_000, 1_000_000_000))
    assert cache.scene_picture("k") == b"x"
    assert (folder / MANIFEST).stat().st_mtime > 1_000_000_000
    assert cache.scene_picture("gone") is None
