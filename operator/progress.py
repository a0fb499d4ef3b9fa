"""Progress from the renderer's log stream (contract v1), without credentials in the renderer.

The operator follows each running renderer Pod's log (``follow=true``), keeps the lines
that parse as progress events, and records the newest per VideoJob. A stage change
reaches the VideoJob's status as soon as the line is read: the recorder wakes the
reconciler, which writes the status (well under the 2-second goal).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable, Callable

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


async def follow(lines: Callable[[], AsyncIterable[str]], on_event: Callable[[ProgressEvent], None]) -> int:
    """Read ``lines()`` until it ends, calling ``on_event`` for each progress event; how many were seen.

    The lines are read on the event loop (an asynchronous stream, see :mod:`.logstream`):
    following a Pod costs a connection and a task, not a thread, and ``on_event`` runs in
    the awaiting task's context.
    """
    count = 0
    async for line in lines():
        event = parse_progress_line(line)
        if event is not None:
            count += 1
            on_event(event)
    return count
