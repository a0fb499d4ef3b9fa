"""S3 down past the store's retries: one Pod's render treats the cache as an optimisation (a miss, a
dropped write), while a fanned-out share, whose scenes reach the assembly only through the cache, fails.

The endpoint is a loopback port nothing listens on: the real MinIO client meets a refused connection,
as it does while MinIO restarts (tests/integration/renderer/test_scene_cache_survives_a_minio_outage.py
stops a real MinIO mid-render).
"""

import logging

import pytest

from videojob.renderer.cache import CACHE_VERSION, SCENE_FILES, SceneCache, SceneEntry
from videojob.renderer.errors import UploadError
from videojob.renderer.storage import S3Access
from videojob_devenv.processes import free_port


def _down(best_effort: bool) -> SceneCache:
    return SceneCache.open(
        "s3://videos/cache", S3Access(f"http://127.0.0.1:{free_port()}", attempts=1), best_effort=best_effort
    )


def _files(tmp_path):
    files = {role: tmp_path / name for role, name in SCENE_FILES.items()}
    for path in files.values():
        path.write_bytes(b"x")
    return files


ENTRY = SceneEntry(version=CACHE_VERSION, files=SCENE_FILES, voice="espeak", frames=15, fps=15, speech_samples=1)


def test_one_pods_render_goes_on_with_a_miss_and_a_dropped_write(tmp_path, caplog):
    cache = _down(best_effort=True)
    with caplog.at_level(logging.WARNING, logger="videojob.renderer.cache"):
        assert cache.scene("k1") is None
        cache.put_scene("k1", _files(tmp_path), ENTRY)
    warnings = [record.getMessage() for record in caplog.records]
    assert any("counted as not cached" in message for message in warnings), warnings
    assert any("the render goes on without storing cache/scenes/k1" in message for message in warnings), warnings


def test_a_share_of_a_fanned_out_render_fails_when_its_scene_cannot_be_stored(tmp_path):
    cache = _down(best_effort=False)
    with pytest.raises(UploadError, match="failed after 1 attempts"):
        cache.put_scene("k1", _files(tmp_path), ENTRY)
    with pytest.raises(UploadError):
        cache.scene("k1")
