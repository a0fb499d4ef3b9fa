"""Following many Pods' logs costs connections on the event loop, not a thread per Pod, nor 256 KiB each.

The dev environment's stand-in log server (:mod:`videojob_devenv.pod_logs`) plays the API
server's ``pods/NAME/log?follow=true`` endpoint here (chunked lines, held open); the path
through the real API server and a kubelet's log endpoint is proven in
tests/integration/operator/test_progress_streams_from_the_renderer_log.py.
"""

from __future__ import annotations

import asyncio
import asyncio.sslproto
import functools
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import kubernetes
import pytest

from videojob.contract import ProgressEvent, encode_progress
from videojob.operator.errors import PermanentApiError, TransientApiError
from videojob.operator.logstream import LogStreams, shrink_tls_read_buffers
from videojob.operator.progress import follow
from videojob_devenv import pki
from videojob_devenv.pod_logs import PodLogServer

STREAMS = 60


def _line(scene: int) -> str:
    return encode_progress(ProgressEvent(phase="Rendering", progress=10 + scene, stage=f"Rendering scene {scene}/3"))


def _starts_rendering(server: PodLogServer, pod: str) -> None:
    server.say("ns", pod, "plain line")
    server.say("ns", pod, _line(1))


def _finishes(server: PodLogServer, pod: str) -> None:
    server.say("ns", pod, _line(2))
    server.say("ns", pod, _line(3), end="")  # the last line has no newline


def _configuration(host: str) -> kubernetes.client.Configuration:
    configuration = kubernetes.client.Configuration(host=host)
    configuration.api_key = {"BearerToken": "operator-token"}
    configuration.api_key_prefix = {"BearerToken": "Bearer"}
    return configuration


def test_sixty_open_log_streams_add_no_threads_and_deliver_every_line():
    server = PodLogServer()
    pods = [f"render-{i}" for i in range(STREAMS)]
    for pod in pods:
        _starts_rendering(server, pod)

    async def main() -> None:
        streams = LogStreams(_configuration(server.url))
        threads_before = threading.active_count()
        seen: dict[int, list[str]] = {i: [] for i in range(STREAMS)}

        def follow_render(i: int) -> Coroutine[Any, Any, int]:
            return follow(
                functools.partial(streams.follow, "ns", pods[i], "renderer", 100),
                lambda event: seen[i].append(event.stage),
            )

        tasks = [asyncio.create_task(follow_render(i)) for i in range(STREAMS)]
        while server.open_streams < STREAMS or any(not stages for stages in seen.values()):
            await asyncio.sleep(0.01)
        threads_while_open = threading.active_count()
        for pod in pods:  # the render goes on; until now every stream stayed open
            _finishes(server, pod)
            server.end("ns", pod)
        counts = await asyncio.gather(*tasks)
        await streams.close()

        assert threads_while_open - threads_before <= 1, "a log stream must not hold a thread of its own"
        assert counts == [3] * STREAMS
        assert all(stages == [f"Rendering scene {s}/3" for s in (1, 2, 3)] for stages in seen.values())

    try:
        asyncio.run(main())
    finally:
        server.stop()
    assert server.requests[0].query == {"container": "renderer", "follow": "true", "tailLines": "100"}
    assert {request.authorization for request in server.requests} == {"Bearer operator-token"}


def test_a_refused_or_broken_stream_raises_an_error_naming_the_pod():
    server = PodLogServer()
    server.refuse("ns", "forbidden", 403, "pods/log is forbidden")
    _starts_rendering(server, "breaks")
    _finishes(server, "breaks")
    server.drop("ns", "breaks")  # the connection drops mid-render

    async def main() -> None:
        streams = LogStreams(_configuration(server.url))
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

    try:
        asyncio.run(main())
    finally:
        server.stop()


def test_a_verified_tls_stream_with_small_read_buffers_still_delivers_a_long_line(tmp_path: Path):
    """The operator shrinks asyncio's per-connection TLS buffer to 16 KiB: a 200 KiB line still arrives whole."""
    shrink_tls_read_buffers()
    assert asyncio.sslproto.SSLProtocol.max_size <= 16 * 1024
    authority = pki.CertificateAuthority(tmp_path, common_name="stand-in-apiserver-ca")
    server = PodLogServer(authority.issue("server", "stand-in-apiserver", server=True, ip_addresses=("127.0.0.1",)))
    long_line = "x" * 200_000
    server.say("ns", "render-0", long_line)
    server.say("ns", "render-0", _line(2))
    server.end("ns", "render-0")

    async def main() -> list[str]:
        configuration = _configuration(server.url)
        configuration.ssl_ca_cert = str(authority.pair.cert)  # verified against this CA, as a kubeconfig says
        streams = LogStreams(configuration)
        try:
            return [line async for line in streams.follow("ns", "render-0", "renderer", 10)]
        finally:
            await streams.close()

    try:
        lines = asyncio.run(main())
    finally:
        server.stop()
    assert lines[0] == long_line and "Rendering scene 2/3" in lines[1]
