"""``minio.enabled=true`` on the real node: the chart's own MinIO Pod is the release's S3, as
a user trying videojob out installs it with nothing but the chart and the images.

``helm test`` renders a video whose renderer Pod writes to MinIO by its Service name
(cluster DNS), whose download the gateway presigns for that name, and which the test Pod
fetches from it. The generated keys survive an upgrade (the chart looks them up), and the
bucket answers through a port-forward with those keys.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
from collections.abc import Iterator

import pytest
from minio import Minio

from support.chart import CHART_DIR
from videojob_devenv import images
from videojob_devenv.controlplane import ControlPlane
from videojob_devenv.node import Node
from videojob_devenv.release import RESTRICTED_LABELS, LocalRelease, helm, image_values, port_forward

RELEASE = "vj-minio"
FULLNAME = f"{RELEASE}-videojob"
NAMESPACE = "videojob-helm-minio"
BUCKET = "lessons"
TIMEOUT = 600

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(900 + 2 * TIMEOUT)]


class MinioRelease:
    def __init__(self, cluster: ControlPlane) -> None:
        self.cluster = cluster

    def helm(self, *args: str) -> str:
        """helm's output; warnings (a PodSecurity one, say) fail the test: a clean release prints none."""
        try:
            done = helm(self.cluster.kubeconfig, NAMESPACE, *args, timeout=TIMEOUT + 60)
            assert "PodSecurity" not in done.stderr and "Warning" not in done.stderr, done.stderr
            return done.stdout
        except subprocess.CalledProcessError as error:
            listed = self.cluster.kubectl("-n", NAMESPACE, "get", "pods,events", check=False).stdout[-4000:]
            logs = self.cluster.kubectl("-n", NAMESPACE, "logs", f"{FULLNAME}-selftest", check=False).stdout
            pytest.fail(f"helm {args[0]} failed:\n{error.stdout}\n{error.stderr}\n{listed}\n{logs}", pytrace=False)

    def get(self, *args: str) -> dict:
        return json.loads(self.cluster.kubectl("-n", NAMESPACE, "get", *args, "-o", "json").stdout)

    def keys(self) -> dict[str, str]:
        data = self.get("secret", "videojob-s3")["data"]
        return {name: base64.b64decode(value).decode() for name, value in data.items()}


@pytest.fixture(scope="module")
def release(
    kube_cluster: ControlPlane, kube_node: Node, base_image: images.Image, renderer_image: images.Image
) -> Iterator[MinioRelease]:
    try:
        controlplane, minio = images.controlplane_image(base_image), images.minio_image()
    except images.ImageError as error:
        pytest.fail(f"an image could not be built: {error}", pytrace=False)
    for image in (controlplane, minio):
        kube_node.load(image)
    kube_cluster.kubectl("create", "namespace", NAMESPACE)
    kube_cluster.kubectl("label", "namespace", NAMESPACE, *RESTRICTED_LABELS)
    values = LocalRelease(
        controlplane=controlplane,
        renderer=renderer_image,
        s3_endpoint="http://ignored.invalid:9000",  # minio.enabled replaces it with the MinIO Service
        bucket=BUCKET,
        s3_secret="videojob-s3",
        watch_namespaces=[NAMESPACE],
        keys_namespace=f"{NAMESPACE}-keys",
    ).sets()
    values += [*image_values("minio.image", minio), "minio.enabled=true", "tests.enabled=true"]
    state = MinioRelease(kube_cluster)
    state.helm("install", RELEASE, str(CHART_DIR), "--wait", f"--timeout={TIMEOUT}s", *[f"--set={v}" for v in values])
    yield state
    helm(kube_cluster.kubeconfig, NAMESPACE, "uninstall", RELEASE, "--wait", "--ignore-not-found")
    for namespace in (NAMESPACE, f"{NAMESPACE}-keys"):
        kube_cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def test_helm_test_renders_into_the_charts_minio(release: MinioRelease) -> None:
    [pod] = release.get("pods", "-l", "app.kubernetes.io/component=minio")["items"]
    assert pod["status"]["phase"] == "Running" and pod["spec"]["securityContext"]["runAsUser"] == 10001
    operator = release.get("deployment", f"{FULLNAME}-operator")["spec"]["template"]["spec"]["containers"][0]
    endpoint = {e["name"]: e.get("value") for e in operator["env"]}["VIDEOJOB_S3_ENDPOINT"]
    assert endpoint == f"http://{FULLNAME}-minio.{NAMESPACE}.svc:9000"
    tested = release.helm("test", RELEASE, f"--timeout={TIMEOUT}s")
    assert "Phase: Succeeded" in " ".join(tested.split()), tested

    with port_forward(release.cluster.kubeconfig, NAMESPACE, f"svc/{FULLNAME}-minio", 9000) as url:
        keys = release.keys()
        client = Minio(
            url.removeprefix("http://"), access_key=keys["accessKey"], secret_key=keys["secretKey"], secure=False
        )
        cached = [o.object_name for o in client.list_objects(BUCKET, prefix="cache/", recursive=True)]
        # The self-test deleted its video (retention Delete); the scene cache the renderer wrote stays.
        assert cached, "the renderer wrote nothing into the chart's MinIO"


def test_the_generated_keys_and_the_objects_survive_an_upgrade(release: MinioRelease) -> None:
    before = release.keys()
    minio_pod = release.get("pods", "-l", "app.kubernetes.io/component=minio")["items"][0]["metadata"]["uid"]
    with port_forward(release.cluster.kubeconfig, NAMESPACE, f"svc/{FULLNAME}-minio", 9000) as url:
        client = Minio(
            url.removeprefix("http://"), access_key=before["accessKey"], secret_key=before["secretKey"], secure=False
        )
        client.put_object(BUCKET, "upgrade-check.txt", io.BytesIO(b"still here"), 10)
    release.helm("upgrade", RELEASE, str(CHART_DIR), "--reuse-values", "--set=operator.logLevel=DEBUG", "--wait")
    assert release.keys() == before
    [after] = release.get("pods", "-l", "app.kubernetes.io/component=minio")["items"]
    assert after["metadata"]["uid"] == minio_pod  # an upgrade that leaves MinIO's values alone leaves its Pod
    with port_forward(release.cluster.kubeconfig, NAMESPACE, f"svc/{FULLNAME}-minio", 9000) as url:
        client = Minio(
            url.removeprefix("http://"), access_key=before["accessKey"], secret_key=before["secretKey"], secure=False
        )
        assert client.get_object(BUCKET, "upgrade-check.txt").read() == b"still here"
