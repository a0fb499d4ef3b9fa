"""Progress from the renderer's log stream (contract v1), without credentials in the renderer.

The operator follows each running renderer Pod's log (``follow=true``), keeps the lines
that parse as progress events, and records the newest per VideoJob. A stage change
reaches the VideoJob's status as soon as the line is read: the recorder wakes the
reconciler, which writes the status (well under the 2-second goal).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from collections.abc import Callable, Iterable

from videojob.contract import ProgressEvent, parse_progress_line

logger = logging.getLogger(__name__)


class ProgressBoard:
    """The newest progress event of every renderer Pod, per VideoJob.

    A single-Pod render reads its newest Pod's event; a fanned-out one reads one per index
    (see :mod:`.fanout`). Pods of earlier attempts stay until the VideoJob is forgotten:
    a few small events per VideoJob.
    """

    def __init__(self) -> None:
        self._latest: dict[str, dict[str, ProgressEvent]] = {}

    def record(self, videojob_uid: str, pod_uid: str, event: ProgressEvent) -> bool:
        """Keep the event; True when it changes what the status would show."""
        pods = self._latest.setdefault(videojob_uid, {})
        before = pods.get(pod_uid)
        if before is not None and event.time < before.time:
            return False  # a replayed line after a reconnect
        pods[pod_uid] = event
        return before != event

    def latest(self, videojob_uid: str, pod_uid: str | None) -> ProgressEvent | None:
        """The newest event from this Pod; an event from an earlier attempt's Pod does not count."""
        return self._latest.get(videojob_uid, {}).get(pod_uid) if pod_uid is not None else None

    def forget(self, videojob_uid: str) -> None:
        self._latest.pop(videojob_uid, None)


async def follow(lines: Callable[[], Iterable[str]], on_event: Callable[[ProgressEvent], None]) -> int:
    """Read ``lines()`` in a worker thread until it ends; call ``on_event`` on the loop for each event.

    Returns how many events were seen. The blocking read lives in a daemon thread so that a
    stuck log stream can never hold up the operator's shutdown.
    """
    loop = asyncio.get_running_loop()
    finished = loop.create_future()
    count = 0

    def deliver(event: ProgressEvent) -> None:
        nonlocal count
        count += 1
        on_event(event)

    def read() -> None:
        error: BaseException | None = None
        try:
            for line in lines():
                event = parse_progress_line(line)
                if event is not None:
                    loop.call_soon_threadsafe(deliver, event)
        except BaseException as caught:
            error = caught
        if not loop.is_closed():
            loop.call_soon_threadsafe(_settle, finished, error)

    # The thread runs in a copy of the awaiting task's context, and call_soon_threadsafe hands
    # that context on to `deliver`: a callback sees what its caller set, not an empty context.
    context = contextvars.copy_context()
    threading.Thread(target=context.run, args=(read,), name="progress-log", daemon=True).start()
    await finished
    return count


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
