"""Put the video together with ffmpeg: silent scenes joined, one narration track over the whole.

Joining scenes that each carry their own audio leaves tiny gaps at every join (AAC
priming); joining silent scenes by stream copy and muxing a single, sample-exact
narration track afterwards does not.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from videojob.renderer.errors import RenderError


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
        _ffmpeg("-f", "concat", "-safe", "0", "-i", listing.name, "-i", str(narration), "-map", "0:v", "-map", "1:a",
                "-c:v", "copy", "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", str(target))
    finally:
        Path(listing.name).unlink(missing_ok=True)
