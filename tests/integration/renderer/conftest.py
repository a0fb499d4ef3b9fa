"""Fixtures for real renders: the CLI in a subprocess, and a local OpenAI-compatible server.

The OpenAI endpoint is the one stand-in the design allows (a paid external API);
everything else (Manim, TeX, espeak-ng, ffmpeg, MinIO) is the real thing.
"""

from __future__ import annotations

import io
import json
import math
import os
import struct
import subprocess
import sys
import threading
import wave
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

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


@dataclass
class OpenAIStub:
    """A local OpenAI-compatible server answering from a script of (status, body) replies."""

    replies: list[tuple[int, dict | bytes]] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    base_url: str = ""

    def reply_storyboard(
        self, storyboard: dict | str, status: int = 200, prompt_tokens: int = 120, completion_tokens: int = 80
    ) -> None:
        content = storyboard if isinstance(storyboard, str) else json.dumps(storyboard)
        self.replies.append(
            (
                status,
                {
                    "id": "chatcmpl-test",
                    "object": "chat.completion",
                    "created": 0,
                    "model": "test-model",
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": content, "refusal": None},
                        }
                    ],
                    "usage": {
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": completion_tokens,
                        "total_tokens": prompt_tokens + completion_tokens,
                    },
                },
            )
        )

    def reply_error(self, status: int, message: str = "slow down") -> None:
        self.replies.append((status, {"error": {"message": message, "type": "rate_limit", "code": None}}))


@pytest.fixture
def openai_stub() -> Iterator[OpenAIStub]:
    stub = OpenAIStub()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            stub.requests.append(
                {
                    "path": self.path,
                    "json": json.loads(body or b"{}"),
                    "authorization": self.headers.get("Authorization"),
                }
            )
            status, payload = stub.replies.pop(0) if stub.replies else (500, {"error": {"message": "no reply"}})
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "audio/wav" if isinstance(payload, bytes) else "application/json")
            self.send_header("Content-Length", str(len(data)))
            if status == 429:
                self.send_header("Retry-After", "0")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stub.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    yield stub
    server.shutdown()
    server.server_close()
    thread.join()
