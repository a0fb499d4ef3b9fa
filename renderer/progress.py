"""Progress as the operator reads it (JSON lines on stdout) or as a person does (a bar on stderr).

The overall percentage weights the phases by how long they usually take: writing
the storyboard and speech is quick, drawing scenes dominates, assembly and
upload are short. The ETA extrapolates from the time spent so far.
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path
from typing import TextIO

from videojob.contract import Failure, ProgressEvent, Result, ShareDone, encode_progress, encode_termination_message

PHASE_SPANS = {
    "Scripting": (0.0, 10.0),
    "Rendering": (10.0, 85.0),
    "Assembling": (85.0, 95.0),
    "Uploading": (95.0, 100.0),
}


class Progress:
    """Reports each step in ``mode`` "json" (stdout), "bar" (stderr) or "none"."""

    def __init__(self, mode: str, stdout: TextIO | None = None, stderr: TextIO | None = None):
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        if mode == "auto":
            mode = "bar" if self.stderr.isatty() else "json"
        self.mode = mode
        self.started = time.monotonic()
        self.events: list[ProgressEvent] = []
        self.storyboard_scenes: int | None = None  # set while drawing one share of a fanned-out render

    def report(
        self, phase: str, stage: str, fraction: float = 0.0, scene: int | None = None, scenes: int | None = None
    ) -> ProgressEvent:
        low, high = PHASE_SPANS[phase]
        percent = round(low + (high - low) * min(1.0, max(0.0, fraction)), 1)
        elapsed = time.monotonic() - self.started
        eta = elapsed * (100 - percent) / percent if percent >= 12 else None
        event = ProgressEvent(
            phase=phase,
            progress=percent,
            stage=stage[:200],
            scene=scene,
            scenes=scenes,
            storyboard_scenes=self.storyboard_scenes,
            eta_seconds=round(eta, 1) if eta is not None else None,
        )
        self.events.append(event)
        if self.mode == "json":
            self.stdout.write(encode_progress(event) + "\n")
            self.stdout.flush()
        elif self.mode == "bar":
            self.stderr.write("\r\033[K" + render_bar(event))
            self.stderr.flush()
        return event

    def announce_end(self, message: Result | ShareDone) -> None:
        """Say the render's end on the progress stream too (json mode), right after its termination message:
        the operator, which follows this log, learns of it before the kubelet reports the container ended."""
        if self.mode == "json":
            self.stdout.write(encode_termination_message(message) + "\n")
            self.stdout.flush()

    def finish_line(self) -> None:
        if self.mode == "bar":
            self.stderr.write("\r\033[K")
            self.stderr.flush()


def render_bar(event: ProgressEvent, width: int = 28) -> str:
    filled = round(width * event.progress / 100)
    eta = f" ETA {format_seconds(event.eta_seconds)}" if event.eta_seconds is not None else ""
    return f"[{'#' * filled}{'.' * (width - filled)}] {event.progress:5.1f}% {event.stage}{eta}"


def format_seconds(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def write_termination_message(path: Path, message: Result | Failure | ShareDone) -> None:
    """The contract's termination message; silently skipped where the path cannot be written (a laptop)."""
    with contextlib.suppress(OSError):
        path.write_text(encode_termination_message(message))
