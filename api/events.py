"""Server-sent events of one video, driven by a Kubernetes watch on its VideoJob.

Each event's ``id`` is the VideoJob's resourceVersion, so a client that reconnects with
``Last-Event-ID`` gets a watch from exactly that version: the API server replays every
change after it, and nothing is lost or repeated. An event is sent only when the video
object (what the user sees) changed: a status write that moves nothing visible sends
nothing. The stream ends after a terminal state (completed, failed, cancelled) or the
VideoJob's deletion. A version too old for the API server's watch cache (410 Gone)
falls back to one fresh read; a broken watch (the API server restarting) is started again
from the last version, a few times, before the stream ends with an ``error`` event.

    id: 1234
    event: video
    data: {"id": "video-...", "status": "in_progress", "progress": 40, ...}
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from .kube import ApiServerError, ApiServerUnavailable, Kube
from .mapping import is_terminal

KEEPALIVE_SECONDS = 15.0
WATCH_RETRIES = 5  # consecutive broken watches before the stream gives up (the client resumes)
_DONE = object()


def sse(event: str, data: Mapping[str, Any], event_id: str | None = None) -> bytes:
    lines = [f"id: {event_id}"] if event_id else []
    lines += [f"event: {event}", "data: " + json.dumps(data, separators=(",", ":"))]
    return ("\n".join(lines) + "\n\n").encode()


async def _pump(source: AsyncIterator[dict[str, Any]], queue: asyncio.Queue[Any]) -> None:
    try:
        async for item in source:
            await queue.put(item)
        await queue.put(_DONE)
    except Exception as error:  # handed to the reader, which decides
        await queue.put(error)


async def _watch_with_keepalive(
    kube: Kube, namespace: str, name: str, version: str
) -> AsyncIterator[dict[str, Any] | None]:
    """Watch events, and None every KEEPALIVE_SECONDS of silence (the caller sends a comment)."""
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=64)
    task = asyncio.create_task(_pump(kube.watch_videojob(namespace, name, version), queue))
    try:
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
            except TimeoutError:
                yield None
                continue
            if item is _DONE:
                return
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        task.cancel()


async def video_events(
    kube: Kube,
    current: Mapping[str, Any],
    render: Callable[[Mapping[str, Any]], dict[str, Any]],
    last_event_id: str | None = None,
) -> AsyncIterator[bytes]:
    """The stream for the VideoJob ``current`` (just read, so that an unknown id is a 404 before streaming)."""
    namespace, name = current["metadata"]["namespace"], current["metadata"]["name"]
    yield b"retry: 2000\n\n"
    version = current["metadata"]["resourceVersion"]
    shown: dict[str, Any] | None = None
    if last_event_id and last_event_id.isdigit():
        if last_event_id == version and is_terminal(current):
            return  # the client already holds the last event
        version = last_event_id  # the watch replays every change after it
    else:
        shown = render(current)
        yield sse("video", shown, version)
        if is_terminal(current):
            return
    failures = 0
    while True:
        restart = False
        try:
            async for event in _watch_with_keepalive(kube, namespace, name, version):
                failures = 0
                if event is None:
                    yield b": keepalive\n\n"
                    continue
                kind, body = event.get("type"), event.get("object") or {}
                if kind == "ERROR":
                    if body.get("code") != 410:
                        code = int(body.get("code") or 500)
                        raise ApiServerError(code, str(body.get("reason")), str(body.get("message")))
                    try:  # too old for the watch cache: read afresh and carry on from there
                        body, kind, restart = await kube.get_videojob(namespace, name), "MODIFIED", True
                    except ApiServerError as error:
                        if error.status != 404:
                            raise
                        kind = "DELETED"
                version = body.get("metadata", {}).get("resourceVersion", version)
                if kind == "BOOKMARK":
                    continue
                if kind == "DELETED":
                    yield sse("deleted", {"id": name, "object": "video.deleted", "deleted": True}, version)
                    return
                video = render(body)
                if video != shown:
                    shown = video
                    yield sse("video", video, version)
                if is_terminal(body):
                    return
                if restart:
                    break
        except ApiServerUnavailable as error:
            # A blip of the API server costs the client nothing: watch again from the last version.
            failures += 1
            if failures > WATCH_RETRIES:
                yield sse("error", {"code": "api_server_unavailable", "message": f"{error}; reconnect to resume"})
                return
            await asyncio.sleep(min(2.0**failures / 4, 5.0))
        # The watch ended (its timeout, or a 410 fallback): start the next one where it stopped.
