"""Put the video together with ffmpeg: silent scenes joined, one narration track over the whole.

Joining scenes that each carry their own audio leaves tiny gaps at every join (AAC
priming); joining silent scenes by stream copy and muxing a single, sample-exact
narration track afterwards does not.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from videojob.renderer.errors import RenderError


def _ffmpeg(*arguments: str) -> None:
    run = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *arguments], capture_output=True, timeout=600)
    if run.returncode != 0:
        raise RenderError(f"ffmpeg failed: {run.stderr.decode(errors='replace').strip()[-400:]}")


def probe(path: Path) -> dict:
    run = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name,nb_frames,duration,r_frame_rate",
         "-show_entries", "format=duration", "-of", "json", str(path)],
        capture_output=True, timeout=60,
    )
    if run.returncode != 0:
        raise RenderError(f"ffprobe could not read {path.name}: {run.stderr.decode(errors='replace')[-200:]}")
    return json.loads(run.stdout)


def video_frames(path: Path) -> int:
    """The number of frames in a scene video: what fixes the scene's real length."""
    for stream in probe(path)["streams"]:
        if stream.get("codec_type") == "video" and str(stream.get("nb_frames", "")).isdigit():
            return int(stream["nb_frames"])
    raise RenderError(f"{path.name} has no countable video stream")


def stream_durations(path: Path) -> dict[str, float]:
    """Seconds per stream type, e.g. {"video": 12.0, "audio": 12.01}."""
    return {s["codec_type"]: float(s["duration"]) for s in probe(path)["streams"] if "duration" in s}


def concat_silent(scenes: list[Path], target: Path) -> None:
    """Scene videos joined end to end by stream copy (they share one encoder configuration)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", dir=target.parent, delete=False) as listing:
        for scene in scenes:
            listing.write(f"file '{scene.resolve().as_posix()}'\n")
    try:
        _ffmpeg("-f", "concat", "-safe", "0", "-i", listing.name, "-map", "0:v", "-c", "copy", "-an", str(target))
    finally:
        Path(listing.name).unlink(missing_ok=True)


def mux_narration(video: Path, narration: Path, target: Path) -> None:
    """H.264 video (copied) with AAC narration, moov atom first so browsers start playing at once."""
    _ffmpeg("-i", str(video), "-i", str(narration), "-map", "0:v", "-map", "1:a", "-c:v", "copy",
            "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", str(target))


def thumbnail(video: Path, at_seconds: float, target: Path) -> None:
    _ffmpeg("-ss", f"{max(0.0, at_seconds):.3f}", "-i", str(video), "-frames:v", "1", "-f", "image2",
            "-c:v", "png", str(target))
