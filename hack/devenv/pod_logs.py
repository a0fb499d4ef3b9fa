"""A stand-in for a Pod's log endpoint, serving the lines a test or benchmark hands it.

Where no kubelet runs (the integration tier; benchmarks on a control plane alone), the
renderer's stdout is played through this server. It answers two paths:

* the kubelet's ``/containerLogs/{namespace}/{pod}/{container}``: point a Node object at
  :meth:`PodLogServer.node_status` and the real API server proxies
  ``GET .../pods/NAME/log?follow=true`` here, with its kubelet client certificate, exactly
  as it would reach a kubelet (serve with :func:`kubelet_serving_pair`, which the API
  server checks against the cluster CA);
* the API server's own ``/api/v1/namespaces/{namespace}/pods/{pod}/log``, for a client
  pointed straight at this server.

Each Pod has one queue of lines: :meth:`~PodLogServer.say` adds one, :meth:`~PodLogServer.end`
finishes the stream, :meth:`~PodLogServer.drop` breaks the connection mid-stream and
:meth:`~PodLogServer.refuse` answers a Pod's requests with an HTTP error. The server runs on
an event loop in a thread of its own, so synchronous test code drives it, and holding
hundreds of streams open costs no thread each.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from videojob_devenv import pki

_END, _DROP = object(), object()  # what a queue holds besides lines


@dataclass(frozen=True)
class LogRequest:
    """One request the server answered: which Pod, its query string and its Authorization header."""

    namespace: str
    pod: str
    query: dict[str, str]
    authorization: str


def kubelet_serving_pair(pki_dir: Path, directory: Path) -> pki.KeyPair:
    """A serving certificate for 127.0.0.1 signed by the cluster CA, which the API server checks kubelets against."""
    authority = pki.CertificateAuthority.load(pki_dir, issue_into=directory)
    return authority.issue("pod-logs", "videojob-stand-in-kubelet", server=True, ip_addresses=("127.0.0.1",))


class PodLogServer:
    """Serves each Pod's queued lines as a chunked, held-open log stream (over TLS when given a key pair)."""

    def __init__(self, serving: pki.KeyPair | None = None) -> None:
        self.requests: list[LogRequest] = []
        self.open_streams = 0
        self._queues: dict[tuple[str, str], asyncio.Queue[Any]] = {}
        self._refusals: dict[tuple[str, str], tuple[int, str]] = {}
        context = None
        if serving is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(serving.cert, serving.key)
        self.scheme = "https" if context else "http"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="pod-log-server", daemon=True)
        self._thread.start()
        self._runner, self.port = asyncio.run_coroutine_threadsafe(self._start(context), self._loop).result(30)

    async def _start(self, context: ssl.SSLContext | None) -> tuple[web.AppRunner, int]:
        app = web.Application()
        app.router.add_get("/containerLogs/{namespace}/{pod}/{container}", self._stream)
        app.router.add_get("/api/v1/namespaces/{namespace}/pods/{pod}/log", self._stream)
        # Held-open streams end at stop(); a short timeout instead of aiohttp's 60 s for those still open.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server)
        return runner, server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def node_status(self) -> dict[str, Any]:
        """The Node status fields that send the API server's log requests for Pods bound to that Node here."""
        return {
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": self.port}},
        }

    def _queue(self, namespace: str, pod: str) -> asyncio.Queue[Any]:
        return self._queues.setdefault((namespace, pod), asyncio.Queue())

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        namespace, pod = request.match_info["namespace"], request.match_info["pod"]
        self.requests.append(LogRequest(namespace, pod, dict(request.query), request.headers.get("Authorization", "")))
        if (refusal := self._refusals.get((namespace, pod))) is not None:
            return web.Response(status=refusal[0], text=refusal[1])
        lines = self._queue(namespace, pod)
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        self.open_streams += 1
        try:
            while (item := await lines.get()) is not _END:
                if item is _DROP:
                    assert request.transport is not None
                    request.transport.close()
                    return response
                await response.write(item.encode())
            await response.write_eof()
        except ConnectionResetError:
            pass  # the reader went away (a Pod's stream the API server closed), as it may from a kubelet
        finally:
            self.open_streams -= 1
        return response

    def _put(self, namespace: str, pod: str, item: Any) -> None:
        self._loop.call_soon_threadsafe(lambda: self._queue(namespace, pod).put_nowait(item))

    def say(self, namespace: str, pod: str, line: str, end: str = "\n") -> None:
        """The Pod prints ``line`` (``end=""``: a last line without its newline)."""
        self._put(namespace, pod, line + end)

    def end(self, namespace: str, pod: str | None = None) -> None:
        """The Pod's log stream ends cleanly (every Pod of the namespace when ``pod`` is None)."""
        pods = [pod] if pod is not None else [p for ns, p in list(self._queues) if ns == namespace]
        for name in pods:
            self._put(namespace, name, _END)

    def drop(self, namespace: str, pod: str) -> None:
        """The connection of the Pod's log stream breaks after the lines said so far."""
        self._put(namespace, pod, _DROP)

    def refuse(self, namespace: str, pod: str, status: int, text: str) -> None:
        """Requests for the Pod's log are answered with ``status`` and ``text`` instead of a stream."""
        self._refusals[(namespace, pod)] = (status, text)

    def stop(self) -> None:
        for namespace, pod in list(self._queues):
            self._put(namespace, pod, _END)
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _shutdown(self) -> None:
        await self._runner.cleanup()
        # A second request for a Pod whose stream already ended still waits on its queue: cancelled, not leaked.
        left = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in left:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)
