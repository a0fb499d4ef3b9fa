"""Following many Pods' logs costs connections on the event loop, not a thread per Pod.

A local aiohttp server plays the API server's ``pods/NAME/log?follow=true`` endpoint here
(chunked lines, held open); the path through the real API server and a kubelet's log
endpoint is proven in tests/integration/operator/test_progress_streams_from_the_renderer_log.py.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Coroutine
from typing import Any

import kubernetes
import pytest
from aiohttp import web

from videojob.contract import ProgressEvent, encode_progress
from videojob.operator.errors import PermanentApiError, TransientApiError
from videojob.operator.logstream import LogStreams
from videojob.operator.progress import follow

STREAMS = 60


def _line(scene: int) -> str:
    return encode_progress(ProgressEvent(phase="Rendering", progress=10 + scene, stage=f"Rendering scene {scene}/3"))


async def _serve(release: asyncio.Event, seen_queries: list[dict[str, str]], tokens: list[str]):
    async def log(request: web.Request) -> web.StreamResponse:
        seen_queries.append(dict(request.query))
        tokens.append(request.headers.get("Authorization", ""))
        if request.match_info["pod"] == "forbidden":
            return web.Response(status=403, text="pods/log is forbidden")
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        await response.write(("plain line\n" + _line(1) + "\n").encode())
        await release.wait()  # the render goes on; the stream stays open
        await response.write((_line(2) + "\n" + _line(3)).encode())  # the last line has no newline
        if request.match_info["pod"] == "breaks":
            request.transport.close()  # the connection drops mid-render
            return response
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/api/v1/namespaces/{namespace}/pods/{pod}/log", log)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}"


def _configuration(host: str) -> kubernetes.client.Configuration:
    configuration = kubernetes.client.Configuration(host=host)
    configuration.api_key = {"BearerToken": "operator-token"}
    configuration.api_key_prefix = {"BearerToken": "Bearer"}
    return configuration


def test_sixty_open_log_streams_add_no_threads_and_deliver_every_line():
    async def main() -> None:
        release = asyncio.Event()
        queries: list[dict[str, str]] = []
        tokens: list[str] = []
        runner, host = await _serve(release, queries, tokens)
        streams = LogStreams(_configuration(host))
        threads_before = threading.active_count()
        seen: dict[int, list[str]] = {i: [] for i in range(STREAMS)}

        def follow_render(i: int) -> Coroutine[Any, Any, int]:
            return follow(
                functools.partial(streams.follow, "ns", f"render-{i}", "renderer", 100),
                lambda event: seen[i].append(event.stage),
            )

        tasks = [asyncio.create_task(follow_render(i)) for i in range(STREAMS)]
        while len(queries) < STREAMS or any(not stages for stages in seen.values()):
            await asyncio.sleep(0.01)
        threads_while_open = threading.active_count()
        release.set()
        counts = await asyncio.gather(*tasks)
        await streams.close()
        await runner.cleanup()

        assert threads_while_open - threads_before <= 1, "a log stream must not hold a thread of its own"
        assert counts == [3] * STREAMS
        assert all(stages == [f"Rendering scene {s}/3" for s in (1, 2, 3)] for stages in seen.values())
        assert queries[0] == {"container": "renderer", "follow": "true", "tailLines": "100"}
        assert set(tokens) == {"Bearer operator-token"}

    asyncio.run(main())


def test_a_refused_or_broken_stream_raises_an_error_naming_the_pod():
    async def main() -> None:
        release = asyncio.Event()
        release.set()
        runner, host = await _serve(release, [], [])
        streams = LogStreams(_configuration(host))
        try:
            with pytest.raises(PermanentApiError, match=r"Pod ns/forbidden: 403"):
                await follow(lambda: streams.follow("ns", "forbidden", "renderer", 10), lambda event: None)
            lines = []
            with pytest.raises(TransientApiError, match=r"Pod ns/breaks"):
                async for line in streams.follow("ns", "breaks", "renderer", 10):
                    lines.append(line)
            assert lines[0] == "plain line" and "Rendering scene 1/3" in lines[1]
        finally:
            await streams.close()
            await runner.cleanup()

    asyncio.run(main())
