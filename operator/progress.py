"""Progress from the renderer's log stream (contract v1), without credentials in the renderer.

The operator follows each running renderer Pod's log (``follow=true``), keeps the lines
that parse as progress events, and records the newest per VideoJob. A stage change
reaches the VideoJob's status as soon as the line is read: the recorder wakes the
reconciler, which writes the status (well under the 2-second goal).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterable, Callable

from videojob.contract import ProgressEvent, Result, ShareDone, parse_end_line, parse_progress_line

from .errors import TransientApiError

logger = logging.getLogger(__name__)


class ProgressBoard:
    """The newest progress event of every renderer Pod, per VideoJob.

    A single-Pod render reads its newest Pod's event; a fanned-out one reads one per index
    (see :mod:`.fanout`). Pods of earlier attempts stay until the VideoJob is forgotten:
    a few small events per VideoJob.
    """

    def __init__(self) -> None:
        self._latest: dict[str, dict[str, ProgressEvent]] = {}
        self._ends: dict[str, dict[str, Result | ShareDone]] = {}

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

    def record_end(self, videojob_uid: str, pod_uid: str, end: Result | ShareDone) -> bool:
        """Keep what a Pod's log said at its end; True the first time (a reconnect replays the line)."""
        pods = self._ends.setdefault(videojob_uid, {})
        known = pod_uid in pods
        pods[pod_uid] = end
        return not known

    def ends(self, videojob_uid: str) -> dict[str, Result | ShareDone]:
        """What each of the VideoJob's Pods said at its end, by Pod uid (those whose log has said it)."""
        return self._ends.get(videojob_uid, {})

    def forget(self, videojob_uid: str) -> None:
        self._latest.pop(videojob_uid, None)
        self._ends.pop(videojob_uid, None)


async def follow(
    lines: Callable[[], AsyncIterable[str]],
    on_event: Callable[[ProgressEvent], None],
    on_end: Callable[[Result | ShareDone], None] | None = None,
) -> int:
    """Read ``lines()`` until it ends, calling ``on_event`` for each progress event and ``on_end`` for the
    renderer's end (its Result or ShareDone line); how many progress events were seen.

    The lines are read on the event loop (an asynchronous stream, see :mod:`.logstream`):
    following a Pod costs a connection and a task, not a thread, and the callbacks run in
    the awaiting task's context.
    """
    count = 0
    async for line in lines():
        event = parse_progress_line(line)
        if event is not None:
            count += 1
            on_event(event)
        elif on_end is not None and (end := parse_end_line(line)) is not None:
            on_end(end)
    return count


# A log stream that ends while the render runs (its kubelet or the API server restarted) is followed again.
QUIET_END_SECONDS = 2.0  # a stream that ends this fast with nothing new: the container has exited
# Pauses between failed reconnects, the last one repeated. Short, so that progress shows again within
# about 2 s of the API server's return: with pauses doubling up to 10 s, the real node's stream opened
# 5.4 s after a restarted API server was ready (tests/e2e/test_chaos_restarts_on_a_real_node.py); a
# refused connection costs the API server nothing.
REFOLLOW_DELAYS = (0.5, 1.0, 2.0)
REFOLLOW_GIVE_UP_SECONDS = 60.0  # failing this long in a row: the Pod is gone, or its node is down


async def follow_until_exit(
    lines: Callable[[], AsyncIterable[str]],
    on_event: Callable[[ProgressEvent], bool],
    on_end: Callable[[Result | ShareDone], None] | None = None,
) -> int:
    """:func:`follow` again and again while the renderer may still run; how many new events were seen
    (``on_end`` hears the renderer's end line, replayed ones too: it is no new event).

    ``on_event`` answers whether an event was new (a replayed line after a reconnect is not). The
    API server ends a followed log with the same clean EOF when the container exits and when the
    kubelet behind it restarts, so a stream that ends is read again (its ``tailLines`` replayed and
    dropped): one that ends at once with nothing new means the container has exited. A stream that
    never opened gives up at once (a Pod without a log endpoint); one that breaks after it had
    opened is retried after :data:`REFOLLOW_DELAYS` until it has failed for
    :data:`REFOLLOW_GIVE_UP_SECONDS` in a row.
    """
    total, fresh, opened, failures, failing_since = 0, 0, False, 0, 0.0

    def counted(event: ProgressEvent) -> None:
        nonlocal total, fresh
        if on_event(event):
            total += 1
            fresh += 1

    def watched() -> AsyncIterable[str]:
        async def lines_marking_open() -> AsyncIterable[str]:
            nonlocal opened
            async for line in lines():
                opened = True
                yield line

        return lines_marking_open()

    while True:
        began, fresh = time.monotonic(), 0
        try:
            await follow(watched, counted, on_end)
            failures = 0
            if fresh == 0 and time.monotonic() - began < QUIET_END_SECONDS:
                return total
            pause = REFOLLOW_DELAYS[0]
        except TransientApiError as error:
            failing_since = time.monotonic() if failures == 0 else failing_since
            failures += 1
            if not opened or time.monotonic() - failing_since > REFOLLOW_GIVE_UP_SECONDS:
                raise
            pause = REFOLLOW_DELAYS[min(failures, len(REFOLLOW_DELAYS)) - 1]
            logger.debug("log stream broke (%s); following again in %.1f s", error, pause)
        await asyncio.sleep(pause)
