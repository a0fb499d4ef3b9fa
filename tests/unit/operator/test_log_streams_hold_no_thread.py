"""Following many Pods' logs costs connections on the event loop, not a thread per Pod, nor 256 KiB each.

A local aiohttp server plays the API server's ``pods/NAME/log?follow=true`` endpoint here
(chunked lines, held open); the path through the real API server and a kubelet's log
endpoint is proven in tests/integration/operator/test_progress_streams_from_the_renderer_log.py.
"""

from __future__ import annotations

import asyncio
import asyncio.sslproto
import datetime
import functools
import ipaddress
import ssl
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import kubernetes
import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from videojob.contract import ProgressEvent, encode_progress
from videojob.operator.errors import PermanentApiError, TransientApiError
from videojob.operator.logstream import LogStreams, shrink_tls_read_buffers
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


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stand-in-apiserver")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "server.crt", directory / "server.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_a_verified_tls_stream_with_small_read_buffers_still_delivers_a_long_line(tmp_path: Path):
    """The operator shrinks asyncio's per-connection TLS buffer to 16 KiB: a 200 KiB line still arrives whole."""
    shrink_tls_read_buffers()
    assert asyncio.sslproto.SSLProtocol.max_size <= 16 * 1024
    cert, key = _self_signed(tmp_path)
    long_line = "x" * 200_000

    async def main() -> list[str]:
        async def log(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse()
            await response.prepare(request)
            await response.write((long_line + "\n" + _line(2) + "\n").encode())
            await response.write_eof()
            return response

        app = web.Application()
        app.router.add_get("/api/v1/namespaces/{namespace}/pods/{pod}/log", log)
        runner = web.AppRunner(app)
        await runner.setup()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        configuration = _configuration(f"https://127.0.0.1:{port}")
        configuration.ssl_ca_cert = str(cert)  # verified against this CA, as the client's kubeconfig says
        streams = LogStreams(configuration)
        try:
            return [line async for line in streams.follow("ns", "render-0", "renderer", 10)]
        finally:
            await streams.close()
            await runner.cleanup()

    lines = asyncio.run(main())
    assert lines[0] == long_line and "Rendering scene 2/3" in lines[1]
