"""Progress events read from a Pod's log reach the operator with the operator's context.

The log used to be read in a thread, and a callback delivered from it lost the context
variables of the task that awaits the reader (kopf keeps its settings in such variables:
when this was lost, kopf.info from a callback failed with LookupError). The log is now
read on the event loop; the callback must still see the awaiting task's context. The operator's
own Events no longer depend on kopf's context (see events.py), but a callback that
silently runs with an empty context would break anything that does.
"""

import asyncio
import contextvars

from videojob.contract import ProgressEvent, encode_progress
from videojob.operator.progress import follow

operator_setting: contextvars.ContextVar[str] = contextvars.ContextVar("operator_setting")


def test_callbacks_from_the_log_reader_see_the_loop_context():
    line = encode_progress(ProgressEvent(phase="Rendering", progress=40, stage="Rendering scene 2/5"))
    seen: list[str] = []

    async def lines():
        yield "a plain log line"
        yield line

    async def operator() -> int:
        operator_setting.set("configured at start-up")
        return await follow(lines, lambda event: seen.append(operator_setting.get("MISSING")))

    assert asyncio.run(operator()) == 1
    assert seen == ["configured at start-up"]
