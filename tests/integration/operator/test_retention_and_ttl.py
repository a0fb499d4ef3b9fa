"""ttlSecondsAfterFinished removes finished VideoJobs; retention Delete removes their S3 objects first."""

from __future__ import annotations

import io

import pytest

from videojob.operator.builders import output_prefix
from videojob.spec import VideoJobSpec

pytestmark = [pytest.mark.cluster, pytest.mark.minio]


def _operator_env(minio_server):
    return {
        "VIDEOJOB_S3_ENDPOINT": minio_server.url,
        "VIDEOJOB_S3_BUCKET": minio_server.bucket,
        "VIDEOJOB_S3_ACCESS_KEY": minio_server.access_key,
        "VIDEOJOB_S3_SECRET_KEY": minio_server.secret_key,
    }


def _store_outputs(minio_server, videojob):
    metadata = videojob["metadata"]
    prefix = output_prefix(
        metadata["namespace"], metadata["name"], metadata["uid"], VideoJobSpec.model_validate(videojob["spec"])
    )
    client = minio_server.client()
    for name in ("video.mp4", "video.vtt", "thumbnail.png"):
        client.put_object(minio_server.bucket, prefix + name, io.BytesIO(b"x" * 10), 10)
    return prefix


def _objects(minio_server, prefix):
    return [
        o.object_name for o in minio_server.client().list_objects(minio_server.bucket, prefix=prefix, recursive=True)
    ]


def test_retention_delete_removes_the_outputs_when_the_videojob_is_deleted(
    cluster, start_operator, minio_server, helpers
):
    start_operator(**_operator_env(minio_server))
    videojob = cluster.videojob("scratch", output={"retention": "Delete"})
    helpers.wait_for(
        lambda: "videojob.dev/output-cleanup" in (cluster.get("vj", "scratch")["metadata"].get("finalizers") or []),
        10,
        "the output-cleanup finalizer",
    )
    prefix = _store_outputs(minio_server, videojob)
    cluster.succeed(cluster.wait_new_pod(cluster.wait_job("scratch")), "scratch")
    cluster.wait_status("scratch", lambda s: s.get("phase") == "Succeeded", "phase Succeeded")

    cluster.kubectl("delete", "vj", "scratch", "--wait=false")
    helpers.wait_for(
        lambda: cluster.kubectl("get", "vj", "scratch", check=False).returncode != 0, 15, "the VideoJob to go"
    )
    assert _objects(minio_server, prefix) == []


def test_retention_retain_keeps_the_outputs(cluster, start_operator, minio_server, helpers):
    start_operator(**_operator_env(minio_server))
    videojob = cluster.videojob("keeper")
    prefix = _store_outputs(minio_server, videojob)
    cluster.wait_job("keeper")
    assert "finalizers" not in cluster.get("vj", "keeper")["metadata"]
    cluster.kubectl("delete", "vj", "keeper", "--wait=true", "--timeout=15s")
    assert len(_objects(minio_server, prefix)) == 3


def test_ttl_after_finished_deletes_the_videojob(cluster, start_operator, helpers, garbage_collector_knows_videojobs):
    start_operator()
    cluster.videojob("brief", ttlSecondsAfterFinished=2)
    job = cluster.wait_job("brief")
    cluster.succeed(cluster.wait_new_pod(job), "brief")
    cluster.wait_status("brief", lambda s: s.get("phase") == "Succeeded", "phase Succeeded")
    helpers.wait_for(
        lambda: cluster.kubectl("get", "vj", "brief", check=False).returncode != 0,
        15,
        "the VideoJob to be deleted after its TTL",
    )
    helpers.wait_for(
        lambda: cluster.kubectl("get", "job", job["metadata"]["name"], check=False).returncode != 0,
        10,
        "its Job to follow",
    )
