"""Put the video together with ffmpeg: silent scenes joined, one narration track over the whole.

Joining scenes that each carry their own audio leaves tiny gaps at every join (AAC
priming); joining silent scenes by stream copy and muxing a single, sample-exact
narration track afterwards does not.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from videojob.renderer.errors import RenderError
from videojob.renderer.narration import SAMPLE_RATE, write_track
from videojob.renderer.stages import FinishedScene
from videojob.renderer.subtitles import SpokenScene, build_cues, to_srt, to_webvtt
from videojob.renderer.timing import LEAD_IN


@dataclass(frozen=True)
class AssembledVideo:
    """The finished video, its subtitles and thumbnail, how long it lasts and who spoke each scene."""

    video: Path
    vtt: Path
    srt: Path
    thumbnail: Path
    duration_seconds: float
    voices: tuple[str, ...]

    @property
    def files(self) -> dict[str, Path]:
        return {"video": self.video, "vtt": self.vtt, "srt": self.srt, "thumbnail": self.thumbnail}


def _ffmpeg(*arguments: str) -> None:
    run = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *arguments], capture_output=True, timeout=600)
    if run.returncode != 0:
        raise RenderError(f"ffmpeg failed: {run.stderr.decode(errors='replace').strip()[-400:]}")


def join_and_mux(scenes: list[Path], narration: Path, target: Path) -> None:
    """The scene videos joined by stream copy (one encoder configuration, so no re-encode), with the
    narration as AAC over the whole, moov atom first so browsers start playing at once."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", dir=target.parent, delete=False) as listing:
        for scene in scenes:
            listing.write(f"file '{scene.resolve().as_posix()}'\n")
    try:
        _ffmpeg(
            "-f",
            "concat",
            "-safe",
            "0",
            "-i",
            listing.name,
            "-i",
            str(narration),
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-c:v",
            "copy",
            "-c:a",
            "aac",
            "-b:a",
            "128k",
            "-movflags",
            "+faststart",
            str(target),
        )
    finally:
        Path(listing.name).unlink(missing_ok=True)


def assemble_video(scenes: list[FinishedScene], fps: int, folder: Path) -> AssembledVideo:
    """video.mp4, its subtitles and thumbnail in ``folder``, from the finished scenes in order."""
    folder.mkdir(parents=True, exist_ok=True)
    samples_per_frame = SAMPLE_RATE // fps
    pieces: list[tuple[Path | None, int, int]] = []
    spoken, offset = [], 0.0
    for scene in scenes:
        pieces.append((scene.speech.path, round(LEAD_IN * SAMPLE_RATE), scene.frames * samples_per_frame))
        spoken.append(SpokenScene(scene.narration, offset + LEAD_IN, scene.speech.seconds))
        offset += scene.frames / fps
    track = folder / "narration.wav"
    assembled = AssembledVideo(
        folder / "video.mp4",
        folder / "video.vtt",
        folder / "video.srt",
        folder / "thumbnail.png",
        offset,
        tuple(scene.speech.voice for scene in scenes),
    )
    write_track(track, pieces)
    join_and_mux([scene.video for scene in scenes], track, assembled.video)
    cues = build_cues(spoken)
    assembled.vtt.write_text(to_webvtt(cues))
    assembled.srt.write_text(to_srt(cues))
    shutil.copyfile(scenes[0].last_frame, assembled.thumbnail)  # the title card, fully drawn
    track.unlink()
    return assembled
