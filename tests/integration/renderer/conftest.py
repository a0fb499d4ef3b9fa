"""Fixtures for real renders: the CLI in a subprocess, and a local OpenAI-compatible server (support.openai_stub).

The OpenAI endpoint is the one stand-in the design allows (a paid external API);
everything else (Manim, TeX, espeak-ng, ffmpeg, MinIO) is the real thing.
"""

from __future__ import annotations

import io
import math
import os
import struct
import subprocess
import sys
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.openai_stub import OpenAIStub, serve_openai_stub
from videojob.contract import parse_progress_line, parse_termination_message

VIDEOJOB = Path(sys.executable).parent / "videojob"


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str
    termination: object

    @property
    def events(self) -> list:
        return [event for event in map(parse_progress_line, self.stdout.splitlines()) if event]


@pytest.fixture
def render_cli(tmp_path: Path):
    """Runs ``videojob render ...`` as a user would, with the termination log and caches in tmp_path."""

    def run(*arguments: str, env: dict[str, str] | None = None, timeout: float = 180) -> CliRun:
        termination = tmp_path / f"termination-{len(list(tmp_path.glob('termination-*')))}.log"
        environment = {
            **os.environ,
            "PYTHONSAFEPATH": "1",
            "VIDEOJOB_TERMINATION_LOG": str(termination),
            "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"),
            "VIDEOJOB_PROGRESS": "json",
            **(env or {}),
        }
        if "OPENAI_API_KEY" not in (env or {}):
            environment.pop("OPENAI_API_KEY", None)  # a developer's real key must never be used by a test
        done = subprocess.run(
            [str(VIDEOJOB), "render", *arguments],
            capture_output=True,
            text=True,
            env=environment,
            timeout=timeout,
            cwd=tmp_path,
        )
        message = parse_termination_message(termination.read_text()) if termination.exists() else None
        return CliRun(done.returncode, done.stdout, done.stderr, message)

    return run


def tone_wav(seconds: float, rate: int = 24000) -> bytes:
    """A mono 16-bit WAV of a plain tone: what the stand-in server speaks with."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i / 10))) for i in range(int(seconds * rate))))
    return buffer.getvalue()


@pytest.fixture
def openai_stub() -> Iterator[OpenAIStub]:
    with serve_openai_stub() as stub:
        yield stub
