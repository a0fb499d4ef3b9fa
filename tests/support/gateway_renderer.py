"""The gateway tier's stand-in renderer: it plays the renderer Pod's part as the operator tier's
stand-in does (tests/support/stand_ins.py: binds the Job's Pod to the fake Node and patches its
status), and also puts real files into MinIO where the renderer would, so what a user downloads
through the gateway can be checked byte for byte: a playable MP4 made by ffmpeg, in the
VideoJob's own orientation, and a contact sheet drawn by the renderer's own compose_sheet.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from minio import Minio

from support.stand_ins import Cluster
from videojob.contract import Failure, Result, StoredOutput, Subtitles, Usage, encode_termination_message
from videojob.quality import DEFAULT_ORIENTATION, Orientation
from videojob.renderer.contact_sheet import BACKGROUND, compose_sheet
from videojob.s3 import job_output_prefix

VTT = (
    "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nLight bends in a raindrop.\n\n"
    "00:00:02.000 --> 00:00:04.000\nEach colour bends differently.\n"
)
SRT = (
    "1\n00:00:00,000 --> 00:00:02,000\nLight bends in a raindrop.\n\n"
    "2\n00:00:02,000 --> 00:00:04,000\nEach colour bends differently.\n"
)
# Small pictures, the shape of the real ones (16:9 and 9:16): the tests look at shapes, not detail.
SAMPLE_SIZES: dict[Orientation, str] = {"landscape": "320x180", "portrait": "180x320"}


def _ffmpeg() -> str:
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg, "ffmpeg is needed (hack/apt-packages.txt)"
    return ffmpeg


def sample_video(directory: Path, orientation: Orientation = "landscape") -> bytes:
    """A real, playable MP4 (4 s, test pattern and a tone) in ``orientation``, made by ffmpeg."""
    path = directory / f"sample-{orientation}.mp4"
    if not path.exists():
        subprocess.run(
            [
                _ffmpeg(),
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                f"testsrc=duration=4:size={SAMPLE_SIZES[orientation]}:rate=15",
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


def sample_contact_sheet(directory: Path, orientation: Orientation = "landscape") -> bytes:
    """A contact sheet as the renderer draws one (its own compose_sheet), of two frames of :func:`sample_video`."""
    path = directory / f"contact-sheet-{orientation}.png"
    if not path.exists():
        sample_video(directory, orientation)
        frames = [directory / f"frame-{orientation}-{second}.png" for second in (1, 3)]
        for second, frame in zip((1, 3), frames, strict=True):
            subprocess.run(
                [_ffmpeg(), "-v", "error", "-y", "-ss", str(second), "-i", str(directory / f"sample-{orientation}.mp4"),
                 "-frames:v", "1", str(frame)],
                check=True,
                timeout=60,
            )  # fmt: skip
        sheet = compose_sheet(
            frames, ["1. title_card", "2. bullet_list"], BACKGROUND, portrait=orientation == "portrait"
        )
        sheet.save(path)
    return path.read_bytes()


@dataclass
class StandInRenderer:
    """Plays the renderer Pod's part: progress lines on its log, files in MinIO, the termination message."""

    cluster: Cluster
    minio: Any
    kubelet: Any
    samples: Path

    @property
    def video(self) -> bytes:
        """The landscape MP4 it uploads (for a VideoJob without ``orientation``)."""
        return sample_video(self.samples)

    @property
    def contact_sheet(self) -> bytes:
        """The landscape contact sheet it uploads."""
        return sample_contact_sheet(self.samples)

    def start(self, name: str) -> dict[str, Any]:
        pod = self.cluster.wait_new_pod(self.cluster.wait_job(name))
        self.cluster.run_pod(pod)
        return pod

    def progress(self, pod: dict[str, Any], phase: str, progress: float, stage: str, eta: float | None = None) -> None:
        line = {"videojob": "progress/v1", "phase": phase, "progress": progress, "stage": stage}
        if eta is not None:
            line["etaSeconds"] = eta
        self.kubelet.say(self.cluster.namespace, pod["metadata"]["name"], json.dumps(line))

    def succeed(self, pod: dict[str, Any], name: str, contact_sheet: bool | bytes = True) -> Result:
        """Upload the files in the VideoJob's orientation and finish the Pod. ``contact_sheet=False``: as a
        renderer from before contact sheets did (none stored, none in the status); bytes: that file instead."""
        videojob = self.cluster.get("vj", name)
        orientation: Orientation = videojob["spec"].get("orientation") or DEFAULT_ORIENTATION
        prefix = job_output_prefix(self.cluster.namespace, name, videojob["metadata"]["uid"])
        client = Minio(
            self.minio.endpoint, access_key=self.minio.access_key, secret_key=self.minio.secret_key, secure=False
        )
        video = sample_video(self.samples, orientation)
        thumbnail = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
        files = [
            ("video.mp4", video, "video/mp4"),
            ("video.vtt", VTT.encode(), "text/vtt"),
            ("video.srt", SRT.encode(), "application/x-subrip"),
            ("thumbnail.png", thumbnail, "image/png"),
        ]
        if contact_sheet:
            sheet = (
                contact_sheet if isinstance(contact_sheet, bytes) else sample_contact_sheet(self.samples, orientation)
            )
            files.append(("contact-sheet.png", sheet, "image/png"))
        for file, data, kind in files:
            client.put_object(self.minio.bucket, prefix + file, io.BytesIO(data), len(data), content_type=kind)
        output: dict[str, Any] = {
            "bucket": self.minio.bucket,
            "key": prefix + "video.mp4",
            "sizeBytes": len(video),
            "sha256": hashlib.sha256(video).hexdigest(),
            "durationSeconds": 4.0,
            "subtitles": Subtitles(vtt=prefix + "video.vtt", srt=prefix + "video.srt"),
            "thumbnail": prefix + "thumbnail.png",
        }
        if contact_sheet:
            output["contactSheet"] = prefix + "contact-sheet.png"
        result = Result(
            output=StoredOutput.model_validate(output),
            usage=Usage.model_validate({"ttsCharacters": 120, "cpuSeconds": 3.5, "scenesRendered": 2}),
        )
        self.cluster.finish_pod(pod, 0, "Completed", encode_termination_message(result))
        return result

    def fail(self, pod: dict[str, Any], reason: str, message: str) -> None:
        self.cluster.finish_pod(pod, 65, "Error", encode_termination_message(Failure(reason=reason, message=message)))


@pytest.fixture
def renderer(
    cluster: Cluster, minio_server: Any, fake_kubelet: Any, tmp_path_factory: pytest.TempPathFactory
) -> StandInRenderer:
    """The stand-in renderer; its sample files are made once per session, in the session's tmp dir."""
    return StandInRenderer(cluster, minio_server, fake_kubelet, tmp_path_factory.getbasetemp())
