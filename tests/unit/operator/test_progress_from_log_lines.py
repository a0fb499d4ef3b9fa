"""The renderer's log lines become progress events quickly; other lines are ignored."""

import asyncio
import time

from videojob.contract import ProgressEvent, encode_progress
from videojob.operator.progress import ProgressBoard, follow


def _line(phase, percent, stage):
    return encode_progress(ProgressEvent(phase=phase, progress=percent, stage=stage))


def test_events_arrive_in_order_and_noise_is_skipped():
    async def lines():
        yield "INFO starting renderer"
        yield _line("Scripting", 5, "Writing the storyboard")
        yield '{"not": "an event"}'
        yield _line("Rendering", 30, "Rendering scene 1/3")

    seen: list[ProgressEvent] = []
    count = asyncio.run(follow(lines, seen.append))
    assert count == 2
    assert [(e.phase, e.stage) for e in seen] == [
        ("Scripting", "Writing the storyboard"),
        ("Rendering", "Rendering scene 1/3"),
    ]


def test_a_stage_change_is_delivered_while_the_stream_is_still_open():
    delays = []

    async def lines():
        yield _line("Rendering", 10, "Rendering scene 1/2")
        await asyncio.sleep(1.0)  # the renderer works; the stream stays open
        written = time.monotonic()
        delays.append(written)
        yield _line("Assembling", 90, "Assembling the video")
        await asyncio.sleep(0.5)

    arrivals = []

    async def main():
        await follow(lines, lambda event: arrivals.append((event.phase, time.monotonic())))

    asyncio.run(main())
    assembling = dict(arrivals)["Assembling"]
    assert assembling - delays[0] < 0.2


def test_board_ignores_events_from_an_earlier_attempts_pod():
    board = ProgressBoard()
    event = ProgressEvent(phase="Rendering", progress=50, stage="Rendering scene 2/4")
    assert board.record("vj", "pod-1", event) is True
    assert board.record("vj", "pod-1", event) is False
    assert board.latest("vj", "pod-1") == event
    assert board.latest("vj", "pod-2") is None
