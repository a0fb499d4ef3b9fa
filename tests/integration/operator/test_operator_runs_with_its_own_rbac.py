"""The operator does its whole job with the ClusterRole that ships, and nothing more.

It runs under a token of the videojob-operator ServiceAccount bound by manifests/rbac/,
through every kind of call it makes: Job and ConfigMap creation, status writes, Events,
suspending a Job, the output-cleanup finalizer with S3 deletion, and TTL deletion.
"""

from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.cluster, pytest.mark.minio]


def test_a_full_life_under_the_shipped_cluster_role(
    cluster, start_operator, operator_kubeconfig, minio_server, helpers, kube_cluster
):
    can_i = kube_cluster.kubectl(
        "auth",
        "can-i",
        "delete",
        "jobs",
        "--as=system:serviceaccount:videojob-system:videojob-operator",
        "-n",
        cluster.namespace,
        check=False,
    )
    assert can_i.stdout.strip() == "no"  # owner references clean up Jobs; the operator never needs to
    operator = start_operator(
        kubeconfig=operator_kubeconfig,
        VIDEOJOB_S3_ENDPOINT=minio_server.url,
        VIDEOJOB_S3_BUCKET=minio_server.bucket,
        VIDEOJOB_S3_ACCESS_KEY=minio_server.access_key,
        VIDEOJOB_S3_SECRET_KEY=minio_server.secret_key,
    )
    cluster.videojob("paused", suspend=True)
    cluster.wait_status("paused", lambda s: s.get("phase") == "Suspended", "phase Suspended")

    cluster.videojob("governed", output={"retention": "Delete"}, ttlSecondsAfterFinished=1)
    job = cluster.wait_job("governed")
    cluster.kubectl("patch", "vj", "governed", "--type=merge", "-p", json.dumps({"spec": {"suspend": True}}))
    cluster.wait_status("governed", lambda s: s.get("phase") == "Suspended", "phase Suspended")
    helpers.wait_for(
        lambda: cluster.get("job", job["metadata"]["name"])["spec"]["suspend"] is True, 10, "the Job suspended"
    )
    cluster.kubectl("patch", "vj", "governed", "--type=merge", "-p", json.dumps({"spec": {"suspend": False}}))

    cluster.succeed(cluster.wait_new_pod(job), "governed")
    # No wait for phase Succeeded here: with a 1 s TTL the VideoJob may be gone before a poll sees
    # it (a CI rehearsal lost that race). Its Succeeded Event, checked below, outlives it.
    helpers.wait_for(
        lambda: cluster.kubectl("get", "vj", "governed", check=False).returncode != 0,
        30,
        "success, then TTL deletion through the finalizer",
    )
    assert {"JobCreated", "Succeeded", "OutputDeleted"} <= {e["reason"] for e in cluster.events("governed")}
    log = operator.log()
    assert "Forbidden" not in log and "403" not in log, log[-3000:]
