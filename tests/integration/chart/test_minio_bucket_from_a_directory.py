"""The chart's MinIO gets its bucket from an init container that only makes a directory
(charts/videojob/templates/minio-deployment.yaml): proven here with the real MinIO server
that the chart's MinIO image carries, started on a data directory prepared the same way.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from videojob_devenv.minio import MinioServer

pytestmark = pytest.mark.minio


def test_a_directory_made_before_minio_starts_is_a_bucket_that_stores_objects(tmp_path: Path) -> None:
    (tmp_path / "minio-data" / "lessons").mkdir(parents=True)  # what the init container does, as /data/lessons
    server = MinioServer(tmp_path, bucket="other")  # the helper makes its own bucket through the API, not this one
    server.start()
    try:
        client = server.client()
        assert client.bucket_exists("lessons")
        client.put_object("lessons", "outputs/a/video.mp4", io.BytesIO(b"mp4 bytes"), 9)
        assert client.get_object("lessons", "outputs/a/video.mp4").read() == b"mp4 bytes"
        assert sorted(bucket.name for bucket in client.list_buckets()) == ["lessons", "other"]
    finally:
        server.stop()


def test_without_the_directory_there_is_no_bucket(tmp_path: Path) -> None:
    """The control: the bucket above exists because of the directory, not by default."""
    server = MinioServer(tmp_path, bucket="other")
    server.start()
    try:
        assert not server.client().bucket_exists("lessons")
    finally:
        server.stop()
