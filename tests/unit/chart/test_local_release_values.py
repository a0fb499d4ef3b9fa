"""The values hack/demo and the e2e release pass (hack/devenv/release.py) are ones the chart accepts
and turns into the operator's and gateway's settings."""

from __future__ import annotations

from pathlib import Path

from unit.chart.test_minio import env_of

from support.chart import find, render
from videojob_devenv.images import Image
from videojob_devenv.release import LocalRelease

LOCAL = LocalRelease(
    controlplane=Image("localhost/videojob-controlplane", "0123abcd", Path("/nonexistent.tar")),
    renderer=Image("localhost/videojob-renderer", "4567ef01", Path("/nonexistent.tar")),
    s3_endpoint="http://10.244.3.1:9000",
    bucket="videojob",
    s3_secret="videojob-s3",
    watch_namespaces=["videojob-demo", "team-a"],
    keys_namespace="videojob-demo-keys",
)


def test_local_images_s3_and_namespaces_reach_the_operator_and_the_gateway() -> None:
    objects = render(LOCAL.sets(), namespace="videojob-demo")
    operator = find(objects, "Deployment", "videojob-operator")
    [container] = operator["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "localhost/videojob-controlplane:0123abcd"
    env = env_of(operator)
    assert env["VIDEOJOB_RENDERER_IMAGE"] == "localhost/videojob-renderer:4567ef01"
    assert env["VIDEOJOB_NAMESPACES"] == "videojob-demo,team-a"
    assert env["VIDEOJOB_S3_ENDPOINT"] == "http://10.244.3.1:9000" and env["VIDEOJOB_S3_BUCKET"] == "videojob"
    assert env["VIDEOJOB_MAX_CONCURRENT_RENDERS"] == "2"
    gateway = find(objects, "Deployment", "videojob-gateway")
    assert gateway["spec"]["replicas"] == 1
    assert env_of(gateway)["VIDEOJOB_GATEWAY_KEYS_NAMESPACE"] == "videojob-demo-keys"
    assert "HorizontalPodAutoscaler" not in {o["kind"] for o in objects}
