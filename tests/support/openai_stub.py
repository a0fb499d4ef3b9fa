"""A local OpenAI-compatible server: the one stand-in the design allows (a paid external API).

It answers ``POST`` requests from a script of ``(status, body)`` replies, in order, and
records every request. When the script runs out it asks ``answer`` (if given) for the
reply, so a server shared by many concurrent renders can answer each request from its
own content (the prompt) instead of a fixed queue whose order nobody controls.

The renderer tests run it on loopback; the e2e tests run it on the node's bridge gateway,
the one host address Pods can reach.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = tuple[int, dict[str, Any] | bytes]


def chat_completion(content: str, prompt_tokens: int = 120, completion_tokens: int = 80) -> dict[str, Any]:
    """A ``chat.completion`` object whose one choice says ``content``."""
    return {
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
    }


@dataclass
class OpenAIStub:
    """A local OpenAI-compatible server answering from a script of (status, body) replies."""

    replies: list[Reply] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""
    port: int = 0
    # Asked for the reply once the script is empty; None answers 500 "no reply".
    answer: Callable[[dict[str, Any]], Reply] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reply_storyboard(
        self, storyboard: dict[str, Any] | str, status: int = 200, prompt_tokens: int = 120, completion_tokens: int = 80
    ) -> None:
        content = storyboard if isinstance(storyboard, str) else json.dumps(storyboard)
        self.replies.append((status, chat_completion(content, prompt_tokens, completion_tokens)))

    def reply_error(self, status: int, message: str = "slow down") -> None:
        self.replies.append((status, {"error": {"message": message, "type": "rate_limit", "code": None}}))

    def _next(self, request: dict[str, Any]) -> Reply:
        with self.lock:  # concurrent requests each take one scripted reply
            self.requests.append(request)
            if self.replies:
                return self.replies.pop(0)
        if self.answer is not None:
            return self.answer(request)
        return 500, {"error": {"message": "no reply"}}


@contextmanager
def serve_openai_stub(host: str = "127.0.0.1", port: int = 0) -> Iterator[OpenAIStub]:
    """Serve an :class:`OpenAIStub` on ``host:port`` (0: any free port) until the block ends."""
    stub = OpenAIStub()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status, payload = stub._next(
                {
                    "path": self.path,
                    "json": json.loads(body or b"{}"),
                    "authorization": self.headers.get("Authorization"),
                }
            )
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "audio/wav" if isinstance(payload, bytes) else "application/json")
            self.send_header("Content-Length", str(len(data)))
            if status == 429:
                self.send_header("Retry-After", "0")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stub.port = server.server_address[1]
    stub.base_url = f"http://{host}:{stub.port}/v1"
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
