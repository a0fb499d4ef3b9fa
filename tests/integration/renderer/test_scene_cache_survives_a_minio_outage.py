"""MinIO stopped for 30 s while a render stores its scenes in the S3 cache: the render goes on and
finishes (a cache write that outlasts the store's retries is dropped with a warning, a lookup is a
miss), and the next render reuses every scene that was stored before the outage. A real MinIO
process, really stopped and started again; the real renderer CLI.

The output goes to a local folder here, so that only the cache meets the outage (the upload's own
outage is tests/integration/renderer/test_upload_survives_a_minio_outage.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from videojob.contract import Result, parse_termination_message
from videojob_devenv.minio import MinioServer
from videojob_devenv.processes import https_ok

pytestmark = pytest.mark.minio

VIDEOJOB = Path(sys.executable).parent / "videojob"
OUTAGE_SECONDS = 30.0
SCENES = 4


@pytest.fixture
def minio(tmp_path):
    server = MinioServer(tmp_path / "minio")
    server.start()
    yield server
    server.stop()


def _storyboard(path: Path) -> Path:
    scenes = [
        {"narration": f"Scene {n} is short.", "visual": {"kind": "title_card", "title": f"Cache {n}"}}
        for n in range(1, SCENES + 1)
    ]
    path.write_text(json.dumps({"title": "Outage", "scenes": scenes}))
    return path


def _command(minio: MinioServer, tmp_path: Path, run: str) -> tuple[list[str], dict[str, str]]:
    env = {
        **os.environ,
        "PYTHONSAFEPATH": "1",
        "VIDEOJOB_TERMINATION_LOG": str(tmp_path / f"{run}.termination"),
        "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"),
        "VIDEOJOB_PROGRESS": "json",
        "VIDEOJOB_S3_ENDPOINT": minio.url,
        "VIDEOJOB_S3_ACCESS_KEY": minio.access_key,
        "VIDEOJOB_S3_SECRET_KEY": minio.secret_key,
        "VIDEOJOB_UPLOAD_ATTEMPTS": "2",  # a write gives up within a second or two of backoff
    }
    source = _storyboard(tmp_path / "storyboard.json")
    cache = f"s3://{minio.bucket}/cache"
    return [
        str(VIDEOJOB),
        "render",
        str(source),
        "--quality",
        "low",
        "--voice",
        "espeak",
        "--cache",
        cache,
        "-o",
        f"file://{tmp_path / run}",
    ], env


def _stored_scenes(minio: MinioServer) -> int:
    objects = minio.client().list_objects(minio.bucket, prefix="cache/scenes/", recursive=True)
    return sum(item.object_name.endswith("/manifest.json") for item in objects)


def test_a_render_finishes_through_a_cache_outage_and_the_next_reuses_what_was_stored(minio, tmp_path):
    command, env = _command(minio, tmp_path, "first")
    render = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert render.stdout is not None
    process = minio.component
    assert process is not None
    for line in render.stdout:  # a drawn scene is stored before its progress is reported
        if line.startswith("{") and json.loads(line).get("stage", "").startswith("Rendering scene 1/"):
            process.stop()
            break
    else:
        pytest.fail(f"the render drew no scene: {render.stderr.read() if render.stderr else ''}")
    down_at = time.monotonic()
    _, stderr = render.communicate(timeout=240)
    down_for = time.monotonic() - down_at  # the render's time with S3 gone, to its end
    finished_in_outage = down_for < OUTAGE_SECONDS
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_at)))
    process.start()  # the same process again: same port, data and keys
    process.wait_ready(lambda: https_ok(f"{minio.url}/minio/health/ready"), 60)

    assert render.returncode == 0, stderr
    assert finished_in_outage, "the render waited the outage out instead of going on"
    assert "scene cache:" in stderr and "the render goes on" in stderr, stderr
    assert "Traceback" not in stderr
    first = parse_termination_message((tmp_path / "first.termination").read_text())
    assert isinstance(first, Result) and first.usage.scenes_rendered == SCENES
    assert (tmp_path / "first" / "video.mp4").stat().st_size > 0
    stored = _stored_scenes(minio)
    assert 1 <= stored < SCENES, f"{stored} scenes stored: the outage should have kept some out"

    command, env = _command(minio, tmp_path, "second")
    again = subprocess.run(command, capture_output=True, text=True, env=env, timeout=240)
    assert again.returncode == 0, again.stderr
    second = parse_termination_message((tmp_path / "second.termination").read_text())
    assert isinstance(second, Result)
    # Exactly what was stored is reused; the scenes dropped during the outage are drawn again.
    assert (second.usage.scenes_cached, second.usage.scenes_rendered) == (stored, SCENES - stored)
    line = (
        f"chaos: MinIO stopped during scene-cache writes: runs=1 faults_injected=1 jobs_finished=2 jobs_lost=0 "
        f"scenes_stored_before_outage={stored} scenes_reused={second.usage.scenes_cached} "
        f"scenes_drawn_again={second.usage.scenes_rendered} longest_recovery_s={down_for:.1f}"
    )
    print(line)
    if report := os.environ.get("VIDEOJOB_CHAOS_REPORT"):  # hack/chaos collects the lines
        with open(report, "a") as sink:
            sink.write(line + "\n")
