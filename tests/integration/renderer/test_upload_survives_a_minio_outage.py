"""MinIO stopped for 30 s while a render uploads: the upload retries through the outage and the video
verifies by sha256, or, when the outage outlasts the retries, the render fails with UploadFailed
(retryable) saying which object and why. A real MinIO process, really stopped and started again.

MinIO goes down as soon as the renderer starts drawing (the scene cache is off, so nothing else
needs S3 before the upload), and comes back 30 s after it went down."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from videojob.contract import EXIT_TRANSIENT, parse_termination_message
from videojob_devenv.minio import MinioServer
from videojob_devenv.processes import https_ok

pytestmark = pytest.mark.minio

VIDEOJOB = Path(sys.executable).parent / "videojob"
OUTAGE_SECONDS = 30.0
STORYBOARD = (
    '{"title": "Outage", "scenes": [{"narration": "Still here.", "visual": {"kind": "title_card", "title": "Up"}}]}'
)


@pytest.fixture
def minio(tmp_path):
    server = MinioServer(tmp_path / "minio")
    server.start()
    yield server
    server.stop()


def _render_through_an_outage(minio: MinioServer, tmp_path: Path, attempts: int):
    source = tmp_path / "outage.json"
    source.write_text(STORYBOARD)
    termination = tmp_path / "termination.log"
    env = {
        **os.environ,
        "PYTHONSAFEPATH": "1",
        "VIDEOJOB_TERMINATION_LOG": str(termination),
        "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"),
        "VIDEOJOB_PROGRESS": "json",
        "VIDEOJOB_S3_ENDPOINT": minio.url,
        "VIDEOJOB_S3_ACCESS_KEY": minio.access_key,
        "VIDEOJOB_S3_SECRET_KEY": minio.secret_key,
        "VIDEOJOB_UPLOAD_ATTEMPTS": str(attempts),
    }
    command = [str(VIDEOJOB), "render", str(source), "--quality", "low", "--cache", "off", "-o", f"s3://{minio.bucket}"]
    render = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert render.stdout is not None
    process = minio.component
    assert process is not None
    for line in render.stdout:
        if '"phase":"Rendering"' in line:
            process.stop()
            break
    else:
        pytest.fail(f"the render never started drawing: {render.stderr.read() if render.stderr else ''}")
    back_at = time.monotonic() + OUTAGE_SECONDS
    while time.monotonic() < back_at:
        time.sleep(0.2)
    ended_during_outage = render.poll() is not None
    # The same process again (same port, data and keys), started from this thread: a child dies with
    # the thread that started it. (MinioServer.start would refuse the port while the refused
    # connections linger in TIME_WAIT.)
    process.start()
    process.wait_ready(lambda: https_ok(f"{minio.url}/minio/health/ready"), 60)
    _, stderr = render.communicate(timeout=300)
    message = parse_termination_message(termination.read_text()) if termination.exists() else None
    return render.returncode, stderr, message, ended_during_outage


def test_an_outage_within_the_retries_ends_in_a_verified_video(minio, tmp_path):
    # 8 attempts back off 0.5 s, 1 s, ... 32 s: about a minute, longer than the outage.
    code, stderr, result, ended_during_outage = _render_through_an_outage(minio, tmp_path, attempts=8)
    assert not ended_during_outage
    assert code == 0, stderr
    assert "transient problem" in stderr  # it did meet the outage, and retried through it
    stored = minio.client().get_object(result.output.bucket, result.output.key)
    try:
        video = stored.read()
    finally:
        stored.close()
        stored.release_conn()
    assert hashlib.sha256(video).hexdigest() == result.output.sha256 and len(video) == result.output.size_bytes


def test_an_outage_longer_than_the_retries_is_upload_failed_saying_what_and_why(minio, tmp_path):
    code, stderr, failure, ended_during_outage = _render_through_an_outage(minio, tmp_path, attempts=2)
    assert code == EXIT_TRANSIENT, stderr  # the Job controller's next Pod may find MinIO back
    assert failure.reason == "UploadFailed"
    assert "failed after 2 attempts" in failure.message and f"s3://{minio.bucket}/" in failure.message, failure
    assert "Traceback" not in stderr
    assert ended_during_outage  # it gave up within its retries, it did not wait the outage out
