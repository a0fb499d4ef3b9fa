"""A renderer's log is followed again when its stream ends while the render runs (a kubelet or API
server restart), and no longer once the container has exited.

The streams here play what the API server's log proxy answers (the real kubelet restart is
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
