"""Images built without a registry: a Dockerfile on the local base, cached by content, run by the node.

The product's images run here as the chart runs them: uid 10001, a read-only root filesystem,
no capabilities, RuntimeDefault seccomp, writable emptyDirs only where the chart mounts them.
"""

from __future__ import annotations

import json
import tarfile
import time
from pathlib import Path

import pytest

from videojob_devenv import images

E2E_IMAGES = Path(__file__).resolve().parent / "images"
UID = 10001

# Runs in the control-plane image: both entry points, as the chart's Deployments start them.
CONTROLPLANE_CHECK = """
id -u
python -P -c 'import videojob.operator.handlers, videojob.api.app; print("imports both")'
videojob-gateway --help | head -n 1
videojob-gateway serve > /tmp/gateway.log 2>&1 &
python -P -c '
import time, urllib.request
for _ in range(120):
    try:
        with urllib.request.urlopen("http://127.0.0.1:8000/healthz", timeout=2) as response:
            print("gateway", response.status, response.read().decode())
            break
    except OSError:
        time.sleep(0.5)
'
timeout 20 python -P -m videojob.operator > /tmp/operator.log 2>&1
grep -q '"logger": "kopf.activities.startup"' /tmp/operator.log && echo "operator ran its startup"
grep -q "Invalid kube-config file" /tmp/operator.log && echo "operator asked for a cluster"
cat /tmp/gateway.log /tmp/operator.log | grep -ci "read-only file system" || true
touch /opt/videojob/written 2>/dev/null || echo "root filesystem read-only"
"""

# One sample per script a storyboard may carry, and the font fontconfig (so Pango) draws it with.
SCRIPT_SAMPLES = {
    "Chinese": "汉字",
    "Japanese": "ひらがな",
    "Korean": "한국어",
    "Arabic": "العربية",
    "Hebrew": "עברית",
    "Devanagari": "हिन्दी",
    "emoji": "😀",
}
FONT_CHECK = """
import json, subprocess, sys
for script, sample in json.loads(sys.argv[1]).items():
    charset = " ".join(f"{ord(c):x}" for c in sample)
    families = subprocess.run(["fc-list", f":charset={charset}", "family"], capture_output=True, text=True).stdout
    ours = sorted({f.split(",")[0] for f in families.splitlines() if f.startswith(("Noto", "Symbola"))})
    print(script, ",".join(ours) or "none")
"""

# Runs beside the MinIO image in one Pod: a real S3 round trip with the minio client.
MINIO_CLIENT = """
import time, io
from minio import Minio
client = Minio("127.0.0.1:9000", access_key="e2e-access", secret_key="e2e-secret-key", secure=False)
for _ in range(120):
    try:
        client.list_buckets()
        break
    except Exception:
        time.sleep(0.5)
client.make_bucket("e2e")
client.put_object("e2e", "hello.txt", io.BytesIO(b"served by the minio image"), length=25)
print(client.get_object("e2e", "hello.txt").read().decode())
"""


def restricted_container(name: str, image: str, command: list[str] | None, mounts: dict[str, str]) -> dict:
    container = {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "securityContext": {
            "runAsNonRoot": True,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [{"name": volume, "mountPath": path} for volume, path in mounts.items()],
    }
    if command is not None:
        container["command"] = command
    return container


def restricted_pod(name: str, containers: list[dict], init_containers: list[dict] | None = None) -> dict:
    """No user is named: the image's own USER must be non-root (runAsNonRoot checks it)."""
    volumes = {mount["name"] for c in containers + (init_containers or []) for mount in c["volumeMounts"]}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "terminationGracePeriodSeconds": 1,
            "initContainers": init_containers or [],
            "containers": containers,
            "volumes": [{"name": volume, "emptyDir": {}} for volume in sorted(volumes)],
        },
    }


@pytest.fixture(scope="module")
def controlplane_image(kube_node, base_image) -> images.Image:
    try:
        image = images.controlplane_image(base_image)
    except images.ImageError as error:
        pytest.fail(f"the control-plane image could not be built: {error}", pytrace=False)
    kube_node.load(image)
    return image


@pytest.fixture(scope="module")
def minio_image(kube_node) -> images.Image:
    try:
        image = images.minio_image()
    except images.ImageError as error:
        pytest.fail(f"the MinIO image could not be built: {error}", pytrace=False)
    kube_node.load(image)
    return image


def test_a_dockerfile_built_on_the_base_runs_on_the_node(pods, probe_image):
    pod = pods.run(
        "probe", probe_image.ref, ["sh", "-c", "cat /opt/probe/greeting.txt; echo; cat /opt/probe/python-version"]
    )

    assert pod["status"]["phase"] == "Succeeded"
    assert pods.logs("probe").splitlines() == ["hello from an image built without a registry", "3.11.2"]


def test_an_unchanged_image_is_not_rebuilt(probe_image, base_image):
    again = images.dockerfile_image(probe_image.name, E2E_IMAGES / "Dockerfile.probe", E2E_IMAGES, base_image)

    assert again.ref == probe_image.ref
    assert again.built_in is None  # served from the cache
    assert images.base_image().ref == base_image.ref


def test_the_controlplane_image_runs_both_entry_points_as_10001_on_a_read_only_root(pods, controlplane_image):
    container = restricted_container("main", controlplane_image.ref, ["sh", "-c", CONTROLPLANE_CHECK], {"tmp": "/tmp"})
    pods.apply(restricted_pod("controlplane", [container]))

    pod = pods.wait_finished("controlplane", timeout=120)

    lines = pods.logs("controlplane").splitlines()
    assert pod["status"]["phase"] == "Succeeded", lines
    assert lines[:2] == [str(UID), "imports both"], lines
    assert lines[2].startswith("usage: videojob-gateway [-h] {serve,"), lines
    assert lines[3] == 'gateway 200 {"status":"ok"}'
    # Without a cluster to talk to (no token, no kubeconfig), the operator ran kopf's startup and asked for one.
    assert lines[4:] == [
        "operator ran its startup",
        "operator asked for a cluster",
        "0",
        "root filesystem read-only",
    ], lines


def test_the_controlplane_image_holds_no_manim_tex_or_ffmpeg_and_stays_small(controlplane_image):
    names = set()
    with tarfile.open(controlplane_image.archive) as archive:
        for member in archive.getmembers():
            if member.name.endswith("layer.tar"):
                with tarfile.open(fileobj=archive.extractfile(member)) as layer:
                    names.update(layer.getnames())
    assert not [n for n in names if "site-packages/manim/" in n or n.endswith(("/bin/ffmpeg", "/bin/latex"))]
    assert controlplane_image.size <= 250 * 2**20, f"{controlplane_image.size / 2**20:.1f} MiB"


def test_a_code_only_change_rebuilds_only_the_controlplane_images_top_layer(tmp_path, controlplane_image, base_image):
    began = time.monotonic()
    edited = images.code_edited_image("Dockerfile.controlplane", tmp_path, base_image)
    rebuilt_in = time.monotonic() - began

    before, after = controlplane_image.layer_ids(), edited.layer_ids()
    assert len(before) == len(after)
    changed = [index for index, (old, new) in enumerate(zip(before, after, strict=True)) if old != new]
    assert changed == [len(before) - 1], f"layers changed: {changed} of {len(before)} (rebuilt in {rebuilt_in:.0f}s)"
    edited.archive.unlink()


def test_the_renderer_image_has_a_noto_font_for_every_script(pods, renderer_image):
    command = ["python", "-P", "-c", FONT_CHECK, json.dumps(SCRIPT_SAMPLES)]
    pods.apply(restricted_pod("fonts", [restricted_container("main", renderer_image.ref, command, {"tmp": "/tmp"})]))

    pod = pods.wait_finished("fonts", timeout=120)

    found = dict(line.split(" ", 1) for line in pods.logs("fonts").splitlines())
    assert pod["status"]["phase"] == "Succeeded", found
    assert {script: family for script, family in found.items() if family == "none"} == {}
    assert found.keys() == SCRIPT_SAMPLES.keys()
    assert "Symbola" in found["emoji"].split(",")  # the outline form Manim can draw (renderer/themes.py)


def test_the_minio_image_serves_s3_as_10001_on_a_read_only_root(pods, minio_image, controlplane_image):
    server = restricted_container("minio", minio_image.ref, None, {"data": "/data", "tmp": "/tmp"})
    server["restartPolicy"] = "Always"  # a sidecar: the Pod ends when the client does
    server["env"] = [
        {"name": "MINIO_ROOT_USER", "value": "e2e-access"},
        {"name": "MINIO_ROOT_PASSWORD", "value": "e2e-secret-key"},
    ]
    client = restricted_container("client", controlplane_image.ref, ["python", "-P", "-c", MINIO_CLIENT], {})
    pods.apply(restricted_pod("minio", [client], init_containers=[server]))

    pod = pods.wait_finished("minio", timeout=120)

    logs = pods.kubectl("logs", "minio", "-c", "client").stdout
    assert pod["status"]["phase"] == "Succeeded", logs + pods.kubectl("logs", "minio", "-c", "minio").stdout
    assert logs.strip() == "served by the minio image"
    assert minio_image.config()["config"]["User"] == f"{UID}:{UID}"


def test_a_superseded_build_leaves_the_nodes_image_store(kube_node, tmp_path):
    """A rebuilt image replaces its earlier build in the node's containerd store, layers included.

    Two builds of one throwaway image (1 MiB layers of different bytes) are imported one after the
    other; the first build's archive is gone, as a rebuild prunes it. CRI names every image a second
    time by its ID (sha256:...); deleting only the localhost/ name kept the layers, and a long-lived
    node kept every renderer build it had imported (13 GiB in one slot).
    """
    name = "localhost/videojob-prune-probe"
    refs = []
    for build in ("first", "second"):
        layer_dir = tmp_path / build
        layer_dir.mkdir()
        (layer_dir / "payload").write_bytes(build.encode() * (2**20 // len(build)))
        layer = tmp_path / f"{build}.tar"
        with tarfile.open(layer, "w") as tar:
            tar.add(layer_dir / "payload", arcname="payload")
        tag = f"{build}-{time.time_ns()}"
        archive = images.archive_path(f"{name}:{tag}")
        images.write_docker_archive(archive, f"{name}:{tag}", layer, created_by=f"prune probe, {build} build")
        refs.append(f"{name}:{tag}")
    try:
        first, second = (images.Image(name, ref.rsplit(":", 1)[1], images.archive_path(ref)) for ref in refs)
        kube_node.load(first)
        assert first.ref in kube_node.ctr("images", "list", "--quiet").stdout.split()
        blobs_with_first = kube_node.ctr("content", "list", "--quiet").stdout.split()
        first_digest = kube_node._listed_images()[first.ref]
        first.archive.unlink()  # the rebuild prunes the earlier archive

        kube_node.load(second)

        listed = kube_node.ctr("images", "list", "--quiet").stdout.split()
        assert second.ref in listed
        assert first.ref not in listed
        assert not [ref for ref, digest in kube_node._listed_images().items() if digest == first_digest]
        blobs_now = set(kube_node.ctr("content", "list", "--quiet").stdout.split())
        only_first = [blob for blob in blobs_with_first if blob not in blobs_now]
        assert only_first, "the first build's layer, config and manifest should have left the content store"
    finally:
        for ref in refs:
            images.archive_path(ref).unlink(missing_ok=True)
        kube_node.ctr("images", "delete", "--sync", *refs, check=False)
