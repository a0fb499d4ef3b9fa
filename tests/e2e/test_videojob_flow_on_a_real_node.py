"""The whole product on a real node: `kubectl apply` a VideoJob, get a narrated MP4 in MinIO.

Nothing is played by the test: the operator runs as a process against the real API
server, the Job controller makes the Pod, the kubelet runs the renderer image built
from Dockerfile.renderer under the hardened security context, and the renderer
uploads to the MinIO that Pods can reach.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import subprocess

import pytest

from support import videojob_manifest, wait_for
from support.node_operator import start_node_operator

LECTURE = """\
# Why the sky is blue

Sunlight holds every colour. Air scatters the short wavelengths most.

## Rayleigh scattering

- Scattering grows as the wavelength shrinks
- Blue light scatters about five times more than red

$$I \\propto \\frac{1}{\\lambda^4}$$
"""


@pytest.fixture
def operator(kube_cluster, videojob_crd, namespace, node_minio, renderer_image, tmp_path):
    """The operator as a real process, watching the test's namespace."""
    process = start_node_operator(kube_cluster, namespace, node_minio, renderer_image, tmp_path / "operator.log")
    yield process
    process.stop()


def _videojob(kube_cluster, namespace: str, name: str) -> dict:
    return json.loads(kube_cluster.kubectl("get", "vj", name, "-n", namespace, "-o", "json").stdout)


def test_markdown_lecture_becomes_a_narrated_video_in_minio(kube_cluster, namespace, operator, node_minio, tmp_path):
    manifest = videojob_manifest("sky", source={"markdown": LECTURE}, theme="physics")
    kube_cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(manifest))

    # Follow it the way a user watching `kubectl get vj -w` would, recording what they saw.
    seen: list[tuple[str, int]] = []

    def finished() -> bool:
        status = _videojob(kube_cluster, namespace, "sky").get("status") or {}
        point = (status.get("phase", ""), int(status.get("progress", 0)))
        if not seen or seen[-1] != point:
            seen.append(point)
        return point[0] in ("Succeeded", "Failed")

    with contextlib.suppress(TimeoutError):  # the assertion below says what was seen
        wait_for(finished, 600, "vj/sky to finish", interval=0.5)
    status = _videojob(kube_cluster, namespace, "sky")["status"]
    assert status["phase"] == "Succeeded", (
        f"phases seen: {seen}\nstatus: {json.dumps(status, indent=1)}\noperator log tail:\n{operator.log_tail(60)}"
    )

    # kubectl wait returns at once for a job that has succeeded.
    kube_cluster.kubectl("wait", "--for=condition=Succeeded", "vj/sky", "-n", namespace, "--timeout=10s")

    # Progress streamed in between: the renderer's stages reached the resource.
    phases = [phase for phase, _ in seen]
    assert "Rendering" in phases, seen
    assert any(0 < progress < 100 for _, progress in seen), seen

    uid = _videojob(kube_cluster, namespace, "sky")["metadata"]["uid"]
    output = status["output"]
    assert output["key"].startswith(f"outputs/{namespace}/sky/{uid}/")
    video = tmp_path / "video.mp4"
    node_minio.client().fget_object(output["bucket"], output["key"], str(video))
    assert video.stat().st_size == output["sizeBytes"]
    assert hashlib.sha256(video.read_bytes()).hexdigest() == output["sha256"]

    probe = json.loads(
        subprocess.run(
            ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(video)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    codecs = {stream["codec_type"]: stream["codec_name"] for stream in probe["streams"]}
    assert codecs == {"video": "h264", "audio": "aac"}
    assert abs(float(probe["format"]["duration"]) - output["durationSeconds"]) < 0.5
    assert output["subtitles"]["vtt"].endswith(".vtt")
    assert node_minio.client().stat_object(output["bucket"], output["subtitles"]["vtt"]).size > 0
    # The contact sheet, which the gateway and web page tests take from a stand-in renderer: the real Pod's.
    assert output["contactSheet"] == f"{output['key'].rsplit('/', 1)[0]}/contact-sheet.png"
    sheet = node_minio.client().get_object(output["bucket"], output["contactSheet"])
    assert sheet.read(8) == b"\x89PNG\r\n\x1a\n" and sheet.headers["Content-Type"] == "image/png"
    sheet.close()

    # `kubectl describe vj/sky` tells the story as Events.
    events = json.loads(
        kube_cluster.kubectl(
            "get",
            "events",
            "-n",
            namespace,
            "--field-selector",
            "involvedObject.kind=VideoJob,involvedObject.name=sky",
            "-o",
            "json",
        ).stdout
    )["items"]
    reasons = {event["reason"] for event in events}
    assert {"Rendering", "Succeeded"} <= reasons, reasons
    assert "reconciling VideoJob" not in operator.log(), "the operator hit an error on the way"
