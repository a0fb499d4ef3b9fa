"""The LLM endpoint down, slow past its timeout, or answering garbage, through the real openai client:
LLMUnavailable with a message saying what to do, a bounded number of requests
(no retry storm), in bounded time, and no output at all. The endpoint is a local server (the one
stand-in the design allows), misbehaving on purpose."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from videojob.contract import EXIT_BAD_INPUT, EXIT_TRANSIENT
from videojob.renderer.config import llm_config
from videojob.renderer.errors import LLMUnavailableError
from videojob.renderer.llm_source import storyboard_from_prompt
from videojob.renderer.settings import RendererSettings
from videojob_devenv.processes import free_port

RETRIES = 2  # so every fault costs at most 3 requests
TIMEOUT = 2.0


@contextlib.contextmanager
def misbehaving_endpoint(delay: float, body: bytes, content_type: str = "application/json") -> Iterator[dict[str, Any]]:
    """An OpenAI-compatible address that waits ``delay`` seconds, then answers 200 with ``body``."""
    seen: dict[str, Any] = {"requests": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen["requests"] += 1
            self.rfile.read(int(self.headers.get("content-length") or 0))
            time.sleep(delay)
            with contextlib.suppress(OSError):  # the client may have given up already
                self.send_response(200)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    seen["base_url"] = f"http://127.0.0.1:{server.server_port}/v1"
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()


def _closed_port_url() -> str:
    return f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there now


def _llm(base_url: str):
    return llm_config(
        RendererSettings(
            openai_api_key="sk-test",
            llm_base_url=base_url,
            llm_model="test-model",
            llm_max_retries=RETRIES,
            llm_timeout_seconds=TIMEOUT,
        )
    )


def test_an_endpoint_that_is_down_is_llm_unavailable_quickly():
    started = time.monotonic()
    with pytest.raises(LLMUnavailableError) as caught:
        storyboard_from_prompt("Explain photosynthesis", _llm(_closed_port_url()))
    assert caught.value.retryable
    assert time.monotonic() - started < 30
    assert "127.0.0.1" in str(caught.value) or "connect" in str(caught.value).lower(), caught.value


def test_an_endpoint_slower_than_the_timeout_is_llm_unavailable_after_a_bounded_number_of_requests():
    with misbehaving_endpoint(delay=TIMEOUT * 3, body=b"{}") as endpoint:
        started = time.monotonic()
        with pytest.raises(LLMUnavailableError) as caught:
            storyboard_from_prompt("Explain photosynthesis", _llm(endpoint["base_url"]))
        elapsed = time.monotonic() - started
    assert endpoint["requests"] <= RETRIES + 1
    assert elapsed < (RETRIES + 1) * TIMEOUT + 20  # the timeouts plus the client's backoff, nothing more
    assert "timed out" in str(caught.value).lower() or "timeout" in str(caught.value).lower(), caught.value


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"<html><body>502 Bad Gateway</body></html>", "text/html"), (b'{"choices": "nope"}', "application/json")],
    ids=["html-page", "wrong-shape"],
)
def test_an_endpoint_answering_garbage_fails_clearly_with_few_requests(body, content_type):
    with (
        misbehaving_endpoint(delay=0, body=body, content_type=content_type) as endpoint,
        pytest.raises(LLMUnavailableError) as caught,
    ):
        storyboard_from_prompt("Explain photosynthesis", _llm(endpoint["base_url"]))
    assert endpoint["requests"] <= RETRIES + 2  # the client's retries and at most one repair request
    assert "did not answer like an OpenAI chat completions API" in str(caught.value)
    assert "spec.llm.baseUrl" in str(caught.value)  # what to check


def test_the_cli_with_the_endpoint_down_leaves_no_output_and_exits_for_a_retry(render_cli, tmp_path):
    run = render_cli(
        "--prompt",
        "Explain photosynthesis to a child",
        "-o",
        f"file://{tmp_path}/out",
        env={"OPENAI_API_KEY": "sk-test", "VIDEOJOB_LLM_BASE_URL": _closed_port_url(), "VIDEOJOB_LLM_MAX_RETRIES": "1"},
    )
    assert run.returncode == EXIT_TRANSIENT, run.stderr
    assert run.returncode != EXIT_BAD_INPUT
    assert run.termination.reason == "LLMUnavailable"
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert not (tmp_path / "out").exists()
