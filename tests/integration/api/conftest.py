"""The gateway as a real process under its own ServiceAccount, against the real API server,
real MinIO and the running operator; the renderer's part is played by the operator tests'
stand-in (it binds the Job's Pod to a fake Node and patches its status), which also puts
real bytes into MinIO where the renderer would, so downloads can be checked byte for byte.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from minio import Minio

from support import REPO_ROOT, wait_for
from support.stand_ins import (  # noqa: F401 - fixtures shared with the operator tests
    Cluster,
    cluster,
    fake_kubelet,
    fake_node,
    helpers,
    start_operator,
)
from videojob.contract import Failure, Result, StoredOutput, Subtitles, Usage, encode_termination_message
from videojob.renderer.contact_sheet import BACKGROUND, compose_sheet
from videojob.s3 import job_output_prefix
from videojob_devenv.processes import Component, free_port

GATEWAY_SA = ("videojob-system", "videojob-gateway")
VTT = (
    "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nLight bends in a raindrop.\n\n"
    "00:00:02.000 --> 00:00:04.000\nEach colour bends differently.\n"
)
SRT = (
    "1\n00:00:00,000 --> 00:00:02,000\nLight bends in a raindrop.\n\n"
    "2\n00:00:02,000 --> 00:00:04,000\nEach colour bends differently.\n"
)


@dataclass
class Gateway:
    url: str
    component: Component
    clients: list[httpx2.Client] = field(default_factory=list)

    def log(self) -> str:
        return self.component.log_path.read_text(errors="replace")

    def client(self, key: str | None = None) -> httpx2.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        client = httpx2.Client(base_url=self.url, headers=headers, timeout=30)
        self.clients.append(client)  # closed when the test ends
        return client


@pytest.fixture(scope="session")
def gateway_kubeconfig(kube_cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kubeconfig with the gateway ServiceAccount's token and the RBAC that ships (manifests/rbac/gateway_*)."""
    manifests = REPO_ROOT / "manifests"
    kube_cluster.kubectl("apply", "-f", str(manifests / "operator" / "namespace.yaml"))
    for name in ("gateway_service_account.yaml", "gateway_tenant_cluster_role.yaml", "gateway_keys.yaml"):
        kube_cluster.kubectl("apply", "-f", str(manifests / "rbac" / name))
    namespace, account = GATEWAY_SA
    token = kube_cluster.kubectl("create", "token", account, "-n", namespace, "--duration=2h").stdout.strip()
    admin = json.loads(Path(kube_cluster.kubeconfig).read_text())
    config = {
        **admin,
        "users": [{"name": account, "user": {"token": token}}],
        "contexts": [{"name": "gateway", "context": {"cluster": admin["clusters"][0]["name"], "user": account}}],
        "current-context": "gateway",
    }
    path = tmp_path_factory.mktemp("gateway-rbac") / "gateway.kubeconfig"
    path.write_text(json.dumps(config))
    return path


def _gateway_command() -> list[str]:
    return [sys.executable, "-P", "-m", "videojob.api"]


@pytest.fixture
def create_tenant(kube_cluster: Any, gateway_kubeconfig: Path, videojob_crd: Any) -> Iterator[Callable[..., str]]:
    """Run the documented command (``videojob-gateway create-tenant``) as the admin; the key it prints."""
    created: list[str] = []

    def create(name: str, max_videos: int = 20) -> str:
        done = subprocess.run(
            [*_gateway_command(), "create-tenant", name, "--max-videos", str(max_videos)],
            capture_output=True,
            text=True,
            timeout=200,
            env=os.environ | {"KUBECONFIG": str(kube_cluster.kubeconfig), "PYTHONSAFEPATH": "1"},
        )
        assert done.returncode == 0, done.stderr
        created.append(name)
        quota = json.loads(kube_cluster.kubectl("get", "quota", "videojob-videos", "-n", name, "-o", "json").stdout)
        assert "count/videojobs.videojob.dev" in quota["status"]["used"], done.stderr  # the command waited for it
        return done.stdout.strip()

    yield create
    for name in created:
        kube_cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture
def start_gateway(gateway_kubeconfig: Path, minio_server: Any, tmp_path: Path) -> Iterator[Callable[..., Gateway]]:
    """Start ``python -P -m videojob.api`` (the videojob-gateway script) with its own ServiceAccount's token."""
    started: list[Gateway] = []

    def start(**settings: str) -> Gateway:
        port = free_port()
        env = (
            os.environ
            | {
                "PYTHONSAFEPATH": "1",
                "KUBECONFIG": str(gateway_kubeconfig),
                "VIDEOJOB_GATEWAY_PORT": str(port),
                "VIDEOJOB_GATEWAY_S3_ENDPOINT": minio_server.url,
                "VIDEOJOB_GATEWAY_S3_BUCKET": minio_server.bucket,
                "VIDEOJOB_GATEWAY_S3_ACCESS_KEY": minio_server.access_key,
                "VIDEOJOB_GATEWAY_S3_SECRET_KEY": minio_server.secret_key,
            }
            | {f"VIDEOJOB_GATEWAY_{key.upper()}": value for key, value in settings.items()}
        )
        component = Component.launch(
            f"gateway-{len(started)}", _gateway_command(), tmp_path, tie_to_parent=True, env=env
        )
        gateway = Gateway(f"http://127.0.0.1:{port}", component)
        started.append(gateway)

        def ready() -> bool:
            assert component.running(), f"the gateway exited:\n{gateway.log()}"
            try:
                return httpx2.get(f"{gateway.url}/readyz", timeout=2).status_code == 200
            except httpx2.HTTPError:
                return False

        wait_for(ready, 60, "the gateway to answer /readyz")
        return gateway

    yield start
    for gateway in started:
        for client in gateway.clients:
            client.close()
        gateway.component.stop(10)
        assert "Forbidden" not in gateway.log(), gateway.log()[-3000:]


def sample_video(directory: Path) -> bytes:
    """A real, playable MP4 (4 s, test pattern and a tone), made by ffmpeg."""
    path = directory / "sample.mp4"
    if not path.exists():
        ffmpeg = shutil.which("ffmpeg")
        assert ffmpeg, "ffmpeg is needed (hack/apt-packages.txt)"
        subprocess.run(
            [
                ffmpeg,
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "testsrc=duration=4:size=320x180:rate=15",
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=440:duration=4",
                "-shortest",
                "-c:v",
                "libx264",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "aac",
                "-movflags",
                "+faststart",
                str(path),
            ],
            check=True,
            timeout=120,
        )
    return path.read_bytes()


def sample_contact_sheet(directory: Path) -> bytes:
    """A contact sheet as the renderer draws one (its own compose_sheet), of two frames of :func:`sample_video`."""
    path = directory / "contact-sheet.png"
    if not path.exists():
        sample_video(directory)
        frames = [directory / f"frame-{second}.png" for second in (1, 3)]
        for second, frame in zip((1, 3), frames, strict=True):
            subprocess.run(
                ["ffmpeg", "-v", "error", "-y", "-ss", str(second), "-i", str(directory / "sample.mp4"),
                 "-frames:v", "1", str(frame)],
                check=True,
                timeout=60,
            )  # fmt: skip
        compose_sheet(frames, ["1. title_card", "2. bullet_list"], BACKGROUND, portrait=False).save(path)
    return path.read_bytes()


@dataclass
class StandInRenderer:
    """Plays the renderer Pod's part: progress lines on its log, files in MinIO, the termination message."""

    cluster: Cluster
    minio: Any
    kubelet: Any
    video: bytes
    contact_sheet: bytes

    def start(self, name: str) -> dict[str, Any]:
        pod = self.cluster.wait_new_pod(self.cluster.wait_job(name))
        self.cluster.run_pod(pod)
        return pod

    def progress(self, pod: dict[str, Any], phase: str, progress: float, stage: str, eta: float | None = None) -> None:
        line = {"videojob": "progress/v1", "phase": phase, "progress": progress, "stage": stage}
        if eta is not None:
            line["etaSeconds"] = eta
        self.kubelet.say(self.cluster.namespace, pod["metadata"]["name"], json.dumps(line))

    def succeed(self, pod: dict[str, Any], name: str) -> Result:
        uid = self.cluster.get("vj", name)["metadata"]["uid"]
        prefix = job_output_prefix(self.cluster.namespace, name, uid)
        client = Minio(
            self.minio.endpoint, access_key=self.minio.access_key, secret_key=self.minio.secret_key, secure=False
        )
        thumbnail = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
        for file, data, kind in (
            ("video.mp4", self.video, "video/mp4"),
            ("video.vtt", VTT.encode(), "text/vtt"),
            ("video.srt", SRT.encode(), "application/x-subrip"),
            ("thumbnail.png", thumbnail, "image/png"),
            ("contact-sheet.png", self.contact_sheet, "image/png"),
        ):
            client.put_object(self.minio.bucket, prefix + file, io.BytesIO(data), len(data), content_type=kind)
        result = Result(
            output=StoredOutput.model_validate(
                {
                    "bucket": self.minio.bucket,
                    "key": prefix + "video.mp4",
                    "sizeBytes": len(self.video),
                    "sha256": hashlib.sha256(self.video).hexdigest(),
                    "durationSeconds": 4.0,
                    "subtitles": Subtitles(vtt=prefix + "video.vtt", srt=prefix + "video.srt"),
                    "thumbnail": prefix + "thumbnail.png",
                    "contactSheet": prefix + "contact-sheet.png",
                }
            ),
            usage=Usage.model_validate({"ttsCharacters": 120, "cpuSeconds": 3.5, "scenesRendered": 2}),
        )
        self.cluster.finish_pod(pod, 0, "Completed", encode_termination_message(result))
        return result

    def fail(self, pod: dict[str, Any], reason: str, message: str) -> None:
        self.cluster.finish_pod(pod, 65, "Error", encode_termination_message(Failure(reason=reason, message=message)))


@pytest.fixture
def renderer(
    cluster: Cluster,  # noqa: F811 - the fixture imported above
    minio_server: Any,
    fake_kubelet: Any,  # noqa: F811 - the fixture imported above
    tmp_path_factory: pytest.TempPathFactory,
) -> StandInRenderer:
    samples = tmp_path_factory.getbasetemp()
    return StandInRenderer(cluster, minio_server, fake_kubelet, sample_video(samples), sample_contact_sheet(samples))


@pytest.fixture
def operator(start_operator: Any, minio_server: Any) -> Any:  # noqa: F811 - the imported fixture
    return start_operator(VIDEOJOB_S3_ENDPOINT=minio_server.url, VIDEOJOB_S3_BUCKET=minio_server.bucket)
