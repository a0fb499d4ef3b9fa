"""The MinIO built from source stores and serves objects through the `minio` client."""

import hashlib
import io
import os
import urllib.request
from datetime import timedelta


def test_put_then_get_returns_the_same_bytes(minio_server):
    client = minio_server.client()
    body = b"hello from videojob\n"
    client.put_object(minio_server.bucket, "proof/hello.txt", io.BytesIO(body), len(body), content_type="text/plain")
    response = client.get_object(minio_server.bucket, "proof/hello.txt")
    try:
        assert response.read() == body
        assert response.headers["Content-Type"] == "text/plain"
    finally:
        response.close()
        response.release_conn()


def test_presigned_get_works_over_plain_http_without_credentials(minio_server):
    client = minio_server.client()
    body = os.urandom(4096)
    client.put_object(minio_server.bucket, "proof/presigned.bin", io.BytesIO(body), len(body))
    url = client.presigned_get_object(minio_server.bucket, "proof/presigned.bin", expires=timedelta(minutes=5))
    assert url.startswith(f"http://{minio_server.endpoint}/")
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == body


def test_multipart_upload_of_20_mib_round_trips_byte_for_byte(minio_server):
    client = minio_server.client()
    body = os.urandom(20 * 2**20)
    # A 5 MiB part size forces four parts: the multipart path, not a single PUT.
    result = client.put_object(minio_server.bucket, "proof/large.bin", io.BytesIO(body), len(body), part_size=5 * 2**20)
    assert result.etag.endswith("-4")  # S3's multipart ETag names the part count
    response = client.get_object(minio_server.bucket, "proof/large.bin")
    try:
        downloaded = response.read()
    finally:
        response.close()
        response.release_conn()
    assert hashlib.sha256(downloaded).hexdigest() == hashlib.sha256(body).hexdigest()
    assert client.stat_object(minio_server.bucket, "proof/large.bin").size == 20 * 2**20
