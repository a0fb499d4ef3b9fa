"""Results go to a real MinIO under outputs/<namespace>/<name>/<uid>/, verified by sha256; scenes are cached there."""

import hashlib
import io
import json
import os

import pytest
from PIL import Image, ImageChops

from videojob.renderer.cache import SCENE_FILES, scene_key
from videojob.renderer.contact_sheet import CAPTION_HEIGHT, CELL_WIDTH, PADDING
from videojob.renderer.errors import UploadError
from videojob.renderer.narration import choose_voices
from videojob.renderer.storage import S3Access, S3Store, s3_client
from videojob.storyboard import parse_storyboard

DEFAULT_ENGLISH_CHAIN = ",".join(voice.spec for voice in choose_voices(None, "en"))  # no --voice given

pytestmark = pytest.mark.minio

STORYBOARD = {
    "title": "Tiny",
    "theme": "chemistry",
    "scenes": [
        {"narration": "Atoms bond.", "visual": {"kind": "title_card", "title": "Bonds"}},
        {"narration": "Two kinds.", "visual": {"kind": "bullet_list", "bullets": ["Ionic", "Covalent"]}},
    ],
}


def _object_bytes(client, bucket, key) -> bytes:
    response = client.get_object(bucket, key)
    try:
        return response.read()
    finally:
        response.close()
        response.release_conn()


def _s3_env(minio_server, uid: str) -> dict[str, str]:
    return {
        "VIDEOJOB_S3_ENDPOINT": minio_server.url,
        "VIDEOJOB_S3_ACCESS_KEY": minio_server.access_key,
        "VIDEOJOB_S3_SECRET_KEY": minio_server.secret_key,
        "VIDEOJOB_NAMESPACE": "physics-dept",
        "VIDEOJOB_JOB_NAME": "bonds",
        "VIDEOJOB_JOB_UID": uid,
    }


def test_render_uploads_every_file_with_content_type_and_verified_sha256(minio_server, render_cli, tmp_path):
    source = tmp_path / "bonds.json"
    source.write_text(json.dumps(STORYBOARD))
    env = _s3_env(minio_server, "1111-aaaa")
    run = render_cli(str(source), "--quality", "low", "-o", f"s3://{minio_server.bucket}", env=env)
    assert run.returncode == 0, run.stderr
    output = run.termination.output
    prefix = "outputs/physics-dept/bonds/1111-aaaa"
    assert (output.bucket, output.key) == (minio_server.bucket, f"{prefix}/video.mp4")
    client = minio_server.client()
    expected_types = {
        "video.mp4": "video/mp4",
        "video.vtt": "text/vtt; charset=utf-8",
        "video.srt": "application/x-subrip",
        "thumbnail.png": "image/png",
        "contact-sheet.png": "image/png",
        "manifest.json": "application/json",
    }
    for name, content_type in expected_types.items():
        assert client.stat_object(minio_server.bucket, f"{prefix}/{name}").content_type == content_type
    manifest = json.loads(_object_bytes(client, minio_server.bucket, f"{prefix}/manifest.json"))
    for entry in manifest["files"].values():
        stored = _object_bytes(client, minio_server.bucket, entry["key"])
        assert (
            hashlib.sha256(stored).hexdigest()
            == entry["sha256"]
            == client.stat_object(minio_server.bucket, entry["key"]).metadata["x-amz-meta-sha256"]
        )
    assert output.sha256 == manifest["files"]["video.mp4"]["sha256"]
    assert output.size_bytes == manifest["files"]["video.mp4"]["sizeBytes"]
    assert (output.subtitles.vtt, output.thumbnail) == (f"{prefix}/video.vtt", f"{prefix}/thumbnail.png")
    assert output.contact_sheet == f"{prefix}/contact-sheet.png"

    # The scene cache lives in the same bucket: another job with the same scenes renders none.
    keys = [
        scene_key(scene.visual.model_dump(mode="json"), scene.narration, "chemistry", "low", DEFAULT_ENGLISH_CHAIN)
        for scene in parse_storyboard(STORYBOARD).scenes
    ]
    for key in keys:
        assert client.stat_object(minio_server.bucket, f"cache/scenes/{key}/scene.mp4").size > 0
    # The contact sheet holds each scene's finished picture, in order.
    sheet = _object_bytes(client, minio_server.bucket, output.contact_sheet)
    finished = [
        _object_bytes(client, minio_server.bucket, f"cache/scenes/{k}/{SCENE_FILES['last_frame']}") for k in keys
    ]
    _assert_sheet_shows(sheet, finished)

    again = render_cli(
        str(source), "--quality", "low", "-o", f"s3://{minio_server.bucket}", env=_s3_env(minio_server, "2222-bbbb")
    )
    assert again.returncode == 0, again.stderr
    assert (again.termination.usage.scenes_rendered, again.termination.usage.scenes_cached) == (0, 2)
    assert again.termination.output.key == "outputs/physics-dept/bonds/2222-bbbb/video.mp4"
    # The whole video came from the cache, and the sheet too is made again, from the cached pictures.
    assert again.termination.output.contact_sheet == "outputs/physics-dept/bonds/2222-bbbb/contact-sheet.png"
    assert _object_bytes(client, minio_server.bucket, again.termination.output.contact_sheet) == sheet


def _assert_sheet_shows(sheet_png: bytes, finished_pngs: list[bytes]) -> None:
    """Two landscape cells side by side, each the scene's last frame shrunk to the cell (within rounding)."""
    sheet = Image.open(io.BytesIO(sheet_png)).convert("RGB")
    width = CELL_WIDTH["landscape"]
    for index, data in enumerate(finished_pngs):
        frame = Image.open(io.BytesIO(data)).convert("RGB")
        height = round(frame.height * width / frame.width)
        x = PADDING + index * (width + PADDING)
        cell = sheet.crop((x, PADDING, x + width, PADDING + height))
        expected = frame.resize((width, height), reducing_gap=3.0)
        bands = ImageChops.difference(cell, expected).getextrema()  # (low, high) of each of R, G, B
        worst = max(int(band[1]) for band in bands if isinstance(band, tuple))
        assert worst <= 8, f"cell {index + 1} is not scene {index + 1}'s finished picture (differs by {worst})"
    assert sheet.size == (PADDING + 2 * (width + PADDING), PADDING + height + CAPTION_HEIGHT + PADDING)


def test_large_files_go_up_in_parts_and_are_verified(minio_server, tmp_path):
    big = tmp_path / "big.mp4"
    big.write_bytes(os.urandom(17 * 1024 * 1024))  # over the 16 MiB part size
    store = S3Store(minio_server.client(), minio_server.bucket)
    digest = store.upload(big, "proof/big.mp4", verify=True)
    stat = minio_server.client().stat_object(minio_server.bucket, "proof/big.mp4")
    assert stat.etag.endswith("-2")  # a multipart upload of two parts
    assert digest == hashlib.sha256(big.read_bytes()).hexdigest()


def test_wrong_credentials_fail_as_upload_error_without_retrying_forever(minio_server, tmp_path):
    from minio import Minio

    client = Minio(minio_server.endpoint, access_key="nobody", secret_key="wrong-secret", secure=False)
    store = S3Store(client, minio_server.bucket, attempts=3, backoff=0.01)
    (tmp_path / "x.png").write_bytes(b"png")
    with pytest.raises(UploadError, match="InvalidAccessKeyId"):
        store.upload(tmp_path / "x.png", "proof/x.png")


class _FlakyS3:
    """An HTTP proxy in front of the real MinIO that answers the first PUTs with 503 SlowDown."""

    def __init__(self, upstream: str, failures: int):
        import http.client
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.failures, self.puts = failures, 0
        flaky = self

        class Handler(BaseHTTPRequestHandler):
            def _relay(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.command == "PUT":
                    flaky.puts += 1
                    if flaky.failures > 0:
                        flaky.failures -= 1
                        error = (
                            b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>SlowDown</Code>"
                            b"<Message>Please reduce your request rate.</Message></Error>"
                        )
                        self.send_response(503)
                        self.send_header("Content-Type", "application/xml")
                        self.send_header("Content-Length", str(len(error)))
                        self.end_headers()
                        self.wfile.write(error)
                        return
                connection = http.client.HTTPConnection(upstream, timeout=30)
                connection.request(self.command, self.path, body=body, headers=dict(self.headers))
                response = connection.getresponse()
                data = response.read()
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in ("transfer-encoding", "content-length", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                connection.close()

            do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = _relay

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def _client_through(flaky: _FlakyS3, minio_server):
    """The client the renderer builds (its one retry policy), pointed at the flaky proxy."""
    return s3_client(S3Access(f"http://{flaky.endpoint}", minio_server.access_key, minio_server.secret_key))


def test_transient_s3_errors_are_retried_and_the_upload_still_verifies(minio_server, tmp_path):
    flaky = _FlakyS3(minio_server.endpoint, failures=2)
    try:
        store = S3Store(_client_through(flaky, minio_server), minio_server.bucket, attempts=3, backoff=0.01)
        video = tmp_path / "video.mp4"
        video.write_bytes(os.urandom(64 * 1024))
        digest = store.upload(video, "proof/flaky/video.mp4", verify=True)
    finally:
        flaky.close()
    assert flaky.puts == 3
    assert digest == hashlib.sha256(video.read_bytes()).hexdigest()
    stored = _object_bytes(minio_server.client(), minio_server.bucket, "proof/flaky/video.mp4")
    assert stored == video.read_bytes()


def test_an_s3_that_keeps_failing_is_tried_exactly_the_stated_number_of_times(minio_server, tmp_path):
    # One retry policy: the store's attempts, nothing stacked under them (MinIO's own pool would retry
    # each of these five more times).
    flaky = _FlakyS3(minio_server.endpoint, failures=100)
    try:
        store = S3Store(_client_through(flaky, minio_server), minio_server.bucket, attempts=3, backoff=0.01)
        video = tmp_path / "video.mp4"
        video.write_bytes(os.urandom(1024))
        with pytest.raises(UploadError, match="SlowDown"):
            store.upload(video, "proof/down/video.mp4")
    finally:
        flaky.close()
    assert flaky.puts == 3
