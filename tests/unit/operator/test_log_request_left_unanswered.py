"""A log request that the API server takes but never answers is given up, so that it is tried again.

On the real node a follow sent while a restarted API server came back stayed unanswered until
the next restart (tests/e2e/test_chaos_restarts_on_a_real_node.py). Here a plain socket server plays
that API server: it reads the request and sends nothing.
"""

from __future__ import annotations

import asyncio

import kubernetes
import pytest

from videojob.operator import logstream
from videojob.operator.errors import TransientApiError
from videojob.operator.logstream import LogStreams

ANSWER_TIMEOUT = 0.5


def test_a_log_request_left_unanswered_fails_as_transient_within_the_answer_timeout(monkeypatch):
    monkeypatch.setattr(logstream, "LOG_ANSWER_TIMEOUT", ANSWER_TIMEOUT)

    async def main() -> float:
        held: list[asyncio.StreamWriter] = []

        async def takes_the_request_and_says_nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
            held.append(writer)
            await reader.readuntil(b"\r\n\r\n")

        server = await asyncio.start_server(takes_the_request_and_says_nothing, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        streams = LogStreams(kubernetes.client.Configuration(host=f"http://127.0.0.1:{port}"))
        loop = asyncio.get_running_loop()
        began = loop.time()
        try:
            with pytest.raises(TransientApiError, match="no answer"):
                async for _ in streams.follow("ns", "render-1", "renderer", 10):
                    pass
            return loop.time() - began
        finally:
            await streams.close()
            for writer in held:
                writer.close()
            server.close()
            await server.wait_closed()

    # Without the timeout the follow waits for as long as the connection lives: 10 s here, then fails.
    waited = asyncio.run(asyncio.wait_for(main(), 10))
    assert ANSWER_TIMEOUT <= waited < ANSWER_TIMEOUT + 1.5
