"""A cached scene is what its manifest says: written last, versioned, naming the voice that spoke."""

import json

from videojob.renderer.cache import CACHE_VERSION, MANIFEST, SCENE_FILES, SceneCache, SceneEntry
from videojob.renderer.storage import FileStore, S3Access


def _scene_files(folder):
    folder.mkdir(parents=True, exist_ok=True)
    files = {role: folder / name for role, name in SCENE_FILES.items()}
    for role, path in files.items():
        path.write_bytes(role.encode())
    return files


def _cache(tmp_path) -> SceneCache:
    return SceneCache.open(f"file://{tmp_path / 'cache'}", S3Access("http://127.0.0.1:9"))


def _entry(**changes):
    fields = {
        "version": CACHE_VERSION,
        "files": SCENE_FILES,
        "voice": "openai:nova",
        "frames": 45,
        "fps": 15,
        "speech_samples": 96_000,
        **changes,
    }
    return SceneEntry(**fields)


def test_a_stored_scene_comes_back_with_its_voice_length_and_files(tmp_path):
    cache = _cache(tmp_path)
    cache.put_scene("k1", _scene_files(tmp_path / "made"), _entry())
    entry = cache.scene("k1")
    assert (entry.voice, entry.frames, entry.duration_seconds, entry.speech_samples) == ("openai:nova", 45, 3.0, 96_000)
    cache.fetch_scene("k1", tmp_path / "fetched")
    assert {path.name: path.read_bytes() for path in (tmp_path / "fetched").iterdir()} == {
        "scene.mp4": b"video",
        "speech.wav": b"speech",
        "last_frame.png": b"last_frame",
    }
    manifest = json.loads((tmp_path / "cache" / "scenes" / "k1" / MANIFEST).read_text())
    assert manifest == {
        "version": CACHE_VERSION,
        "files": SCENE_FILES,
        "voice": "openai:nova",
        "frames": 45,
        "fps": 15,
        "speechSamples": 96_000,
        "durationSeconds": 3.0,
        "speechSeconds": 2.0,
    }


def test_an_entry_without_its_manifest_or_of_another_version_is_not_used(tmp_path):
    store = FileStore(tmp_path / "cache")
    cache = _cache(tmp_path)
    for name in SCENE_FILES.values():  # a render that died before writing the manifest
        store.put_bytes(f"scenes/half/{name}", b"x", "application/octet-stream")
    assert cache.scene("half") is None
    cache.put_scene("old", _scene_files(tmp_path / "made"), _entry(version=CACHE_VERSION - 1))
    assert cache.scene("old") is None
    store.put_bytes(f"scenes/garbled/{MANIFEST}", b"{not json", "application/json")
    assert cache.scene("garbled") is None


def test_no_cache_stores_nothing_and_finds_nothing(tmp_path):
    cache = SceneCache(None)
    cache.put_scene("k", _scene_files(tmp_path / "made"), _entry())
    assert cache.scene("k") is None and cache.video("k") is None
