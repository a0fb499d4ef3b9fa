"""Following container logs on the event loop: one aiohttp connection per Pod, no thread per Pod.

The official client reads a ``follow=true`` log with a blocking socket, which costs a
thread for as long as the render runs: 500 renders meant 500 threads. Here every log is
a streaming GET on one aiohttp session, with the same credentials as the client (the
bearer token is read again per request, so a rotated ServiceAccount token is used).
"""

from __future__ import annotations

import asyncio
import asyncio.sslproto
from collections.abc import AsyncIterator, Mapping
from typing import cast

import aiohttp
import kubernetes

from videojob.kubeconfig import ssl_context

from .errors import PermanentApiError, TransientApiError

TLS_READ_BUFFER = 16 * 1024  # a log line is far smaller; asyncio's default is 256 KiB per connection
# The API server answers a log request (its headers) once it reaches the kubelet, in well under a
# second. One that is starting up can take the request and never answer it: on the real node a
# follow sent as a restarted API server came back stayed unanswered until the next restart (25 s
# without progress); timed out after 5 s, the next try was answered. A read timeout on the body
# could not tell that from a render that prints nothing for minutes, so only the answer is timed.
LOG_ANSWER_TIMEOUT = 5.0


def shrink_tls_read_buffers() -> None:
    """Make every TLS connection of this process allocate a 16 KiB read buffer, not 256 KiB.

    asyncio's SSLProtocol allocates ``max_size`` bytes per connection up front (Python 3.11).
    With one connection per followed Pod, 500 renders cost 125 MiB of buffers for lines of
    a few hundred bytes (measured: 500 open TLS streams grew a process by 296 MiB, client
    and server sides together, against 58 MiB with 16 KiB). Larger reads (kopf's lists)
    just take more of them.
    """
    protocol = getattr(asyncio.sslproto, "SSLProtocol", None)
    if protocol is not None and isinstance(getattr(protocol, "max_size", None), int):
        protocol.max_size = min(protocol.max_size, TLS_READ_BUFFER)


class LogStreams:
    """Streams Pod logs line by line; the session opens on first use, inside the running loop."""

    def __init__(self, configuration: kubernetes.client.Configuration) -> None:
        self.configuration = configuration
        self._session: aiohttp.ClientSession | None = None

    def headers(self) -> dict[str, str]:
        """The credentials of every request on this session (a rotated token is read again each time)."""
        headers = {"Accept": "*/*"}
        for setting in self.configuration.auth_settings().values():
            auth = cast(Mapping[str, str], setting)  # {"in": "header", "key": ..., "value": ...}
            if auth.get("in") == "header" and auth.get("value"):
                headers[auth["key"]] = auth["value"]
        return headers

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            # Streams are long-lived: no cap on connections (each log holds one for the render's length).
            connector = aiohttp.TCPConnector(ssl=ssl_context(self.configuration), limit=0, limit_per_host=0)
            self._session = aiohttp.ClientSession(self.configuration.host, connector=connector)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def follow(self, namespace: str, pod: str, container: str, tail_lines: int) -> AsyncIterator[str]:
        """Lines of a container's log as they come, until the stream ends or breaks."""
        path = f"/api/v1/namespaces/{namespace}/pods/{pod}/log"
        query = {"container": container, "follow": "true", "tailLines": str(tail_lines)}
        doing = f"following the log of Pod {namespace}/{pod}"
        # No total timeout: a render's log stays open for as long as the render runs.
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=30)
        try:
            try:
                async with asyncio.timeout(LOG_ANSWER_TIMEOUT):
                    answer = await self.session.get(path, params=query, headers=self.headers(), timeout=timeout)
            except TimeoutError as error:
                raise TransientApiError(f"while {doing}: no answer within {LOG_ANSWER_TIMEOUT:.0f} s") from error
            async with answer as response:
                if response.status >= 400:
                    text = await response.text()
                    detail = f"while {doing}: {response.status} {response.reason}"
                    if response.status in (400, 403):
                        raise PermanentApiError(f"{detail}: {text}")
                    raise TransientApiError(detail)
                buffer = b""
                async for chunk in response.content.iter_any():
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        yield line.decode(errors="replace")
                if buffer:
                    yield buffer.decode(errors="replace")
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise TransientApiError(f"while {doing}: {error!r}") from error
