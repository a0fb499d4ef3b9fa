"""Progress events read from a Pod's log reach the operator with the operator's context.

kopf keeps its settings in context variables; Events posted (kopf.info/kopf.warn) from
a callback that lost them fail with LookupError, and `kubectl describe vj` shows nothing.
"""

import asyncio
import contextvars

from videojob.contract import ProgressEvent, encode_progress
from videojob.operator.progress import follow

operator_setting: contextvars.ContextVar[str] = contextvars.ContextVar("operator_setting")


def test_callbacks_from_the_log_reader_thread_see_the_loop_context():
    line = encode_progress(ProgressEvent(phase="Rendering", progress=40, stage="Rendering scene 2/5"))
    seen: list[str] = []

    async def operator() -> int:
        operator_setting.set("configured at start-up")
        return await follow(
            lambda: ["a plain log line", line], lambda event: seen.append(operator_setting.get("MISSING"))
        )

    assert asyncio.run(operator()) == 1
    assert seen == ["configured at start-up"]
