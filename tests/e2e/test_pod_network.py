"""Pods reach the test's MinIO through the bridge gateway, and nothing else."""

from __future__ import annotations

import datetime
import secrets
import socket

import pytest

UPLOAD = """
import sys, urllib.request
body = sys.argv[2].encode()
request = urllib.request.Request(sys.argv[1], data=body, method="PUT")
with urllib.request.urlopen(request, timeout=10) as response:
    print("uploaded", len(body), "bytes, HTTP", response.status)
"""

PROBE = """
import socket, sys
for host, port in ((sys.argv[1], int(sys.argv[2])), ("198.51.100.7", 80)):
    try:
        socket.create_connection((host, port), timeout=3).close()
        print(host, "reached")
    except OSError as error:
        print(host, "blocked", type(error).__name__)
"""


def test_a_pod_uploads_an_object_to_the_test_minio(pods, base_image, node_minio):
    key = f"e2e/{secrets.token_hex(4)}/hello.txt"
    body = f"uploaded from a pod {secrets.token_hex(8)}"
    # Signed for the address the Pod uses: the signature covers the Host header.
    url = node_minio.client(node_minio.pod_endpoint).presigned_put_object(
        node_minio.bucket, key, expires=datetime.timedelta(minutes=5)
    )

    pod = pods.run("uploader", base_image.ref, ["python3", "-c", UPLOAD, url, body])

    assert pod["status"]["phase"] == "Succeeded", pods.logs("uploader")
    stored = node_minio.client().get_object(node_minio.bucket, key)
    try:
        assert stored.read() == body.encode()
    finally:
        stored.close()
        stored.release_conn()


def test_pods_reach_no_host_port_the_test_did_not_open_and_no_other_network(pods, base_image, kube_node):
    # A server on the gateway that the test did not allow through the node's firewall.
    with socket.create_server((kube_node.gateway, 0)) as server:
        port = server.getsockname()[1]

        pod = pods.run("prober", base_image.ref, ["python3", "-c", PROBE, kube_node.gateway, str(port)])

        server.setblocking(False)
        with pytest.raises(BlockingIOError):  # no connection ever reached the listener
            server.accept()

    lines = pods.logs("prober").splitlines()
    assert lines[0] == f"{kube_node.gateway} blocked TimeoutError"
    assert lines[1] == "198.51.100.7 blocked OSError"  # no route at all: the packet never leaves
    assert pod["status"]["phase"] == "Succeeded"
