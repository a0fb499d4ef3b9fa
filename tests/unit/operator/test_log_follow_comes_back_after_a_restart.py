"""A renderer's log is followed again when its stream ends while the render runs (a kubelet or API
server restart), soon after the API server answers again, and no longer once the container has exited
or the stream has failed for a minute.

The streams here play what the API server's log proxy answers (the real restarts are
tests/e2e/test_chaos_restarts_on_a_real_node.py): a clean end when the kubelet goes, an error while
it is down, then the ``tailLines`` replay and new lines from the new kubelet, and a replay that ends
at once when the container has exited.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest

from videojob.contract import ProgressEvent, encode_progress
from videojob.operator import progress
from videojob.operator.errors import TransientApiError
from videojob.operator.progress import ProgressBoard, follow_until_exit

START = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def _line(second: int, scene: int) -> str:
    at = START + timedelta(seconds=second)
    return encode_progress(
        ProgressEvent(phase="Rendering", progress=10 * scene, stage=f"Rendering scene {scene}/4", time=at)
    )


def _streams(*answers: list[str] | Exception) -> tuple[Callable[[], AsyncIterator[str]], list[int]]:
    """One answer per request: lines then a clean end, or an error."""
    opened: list[int] = []

    def lines() -> AsyncIterator[str]:
        async def stream() -> AsyncIterator[str]:
            number = len(opened)
            opened.append(number)
            answer = answers[number]
            if isinstance(answer, Exception):
                raise answer
            for line in answer:
                yield line
            await asyncio.sleep(0)

        return stream()

    return lines, opened


def _recording() -> tuple[Callable[[ProgressEvent], bool], list[str]]:
    board, shown = ProgressBoard(), []

    def on_event(event: ProgressEvent) -> bool:
        if board.record("vj", "pod", event):
            shown.append(event.stage)
            return True
        return False

    return on_event, shown


def test_progress_comes_back_after_the_kubelet_restarts_and_stops_when_the_container_exits():
    before = [_line(1, 1)]
    replayed_then_new = [_line(1, 1), _line(9, 2), _line(12, 3)]
    lines, opened = _streams(
        before,  # the kubelet stops: the API server ends the stream cleanly
        TransientApiError("while following the log of Pod ns/p: 500 connection refused"),  # still down
        replayed_then_new,  # the new kubelet: tailLines again, then what the render says next
        [*replayed_then_new],  # the container has exited: the whole log, at once, nothing new
    )
    on_event, shown = _recording()
    total = asyncio.run(follow_until_exit(lines, on_event))
    assert shown == ["Rendering scene 1/4", "Rendering scene 2/4", "Rendering scene 3/4"]
    assert total == 3 and len(opened) == 4


def test_a_log_that_never_opens_is_not_retried():
    # kwok's Pods and a Pod already gone: one request, as before.
    lines, opened = _streams(TransientApiError("while following the log of Pod ns/p: 404 Not Found"))
    on_event, _ = _recording()
    with pytest.raises(TransientApiError):
        asyncio.run(follow_until_exit(lines, on_event))
    assert len(opened) == 1


def _stream_down_for(seconds: float, then: list[str]) -> tuple[Callable[[], AsyncIterator[str]], list[float]]:
    """A stream that breaks (the API server stops), refuses every request for ``seconds``, then serves ``then``."""
    opened_at: list[float] = []
    back_at: list[float] = []

    def lines() -> AsyncIterator[str]:
        async def stream() -> AsyncIterator[str]:
            now = asyncio.get_running_loop().time()
            opened_at.append(now)
            if len(opened_at) == 1:
                back_at.append(now + seconds)
                yield _line(1, 1)
                raise TransientApiError("while following the log of Pod ns/p: ClientPayloadError()")
            if now < back_at[0]:
                raise TransientApiError("while following the log of Pod ns/p: connection refused")
            for line in then:
                yield line

        return stream()

    return lines, opened_at


def test_progress_shows_within_two_seconds_of_the_api_server_coming_back():
    # The real node's API server answered again 13 s after it stopped; with pauses doubling to 10 s
    # the stream opened 5.4 s later. Down for 3.2 s here: reconnects at 0.5, 1.5, 3.5 s, not 1, 3, 7 s.
    down = 3.2
    lines, opened_at = _stream_down_for(down, [_line(1, 1), _line(5, 2)])
    shown_at: list[float] = []
    on_event, shown = _recording()

    def recording_time(event: ProgressEvent) -> bool:
        new = on_event(event)
        if new:
            shown_at.append(asyncio.get_running_loop().time())
        return new

    total = asyncio.run(follow_until_exit(lines, recording_time))
    assert shown == ["Rendering scene 1/4", "Rendering scene 2/4"] and total == 2
    back = opened_at[0] + down
    assert shown_at[-1] - back <= 2.0, f"progress shown {shown_at[-1] - back:.1f} s after the stream was back"


def test_a_stream_that_keeps_failing_is_given_up(monkeypatch):
    # The Pod is gone or its node is down: not followed forever.
    monkeypatch.setattr(progress, "REFOLLOW_GIVE_UP_SECONDS", 1.2)
    lines, opened_at = _stream_down_for(3600.0, [])
    on_event, _ = _recording()
    with pytest.raises(TransientApiError):
        asyncio.run(follow_until_exit(lines, on_event))
    assert 1.2 <= opened_at[-1] - opened_at[0] <= 1.2 + progress.REFOLLOW_DELAYS[-1] + 0.5
    assert len(opened_at) >= 3
