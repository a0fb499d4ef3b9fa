"""A VideoJob's Markdown lecture checked before its first renderer Job, by the renderer's own parser.

A lecture the renderer would refuse (``$$\\input{...}$$``, more scenes than a video holds, a diagram
line that does not parse...) used to fail only inside a renderer Pod, a minute after the
``kubectl apply``. The parser is pure and lives in the core
(:func:`videojob.markdown_lecture.lecture_of_spec`), so the operator runs it first: such a VideoJob
fails at once, as the renderer would have failed it (reason InvalidStoryboard, the renderer's
message naming the line, the advice the operator adds to any bad input), and no Job or Pod is made.

The verdict is kept per VideoJob and generation: a waiting VideoJob is reconciled again each time
the render queue moves. A short lecture is parsed on the event loop (0.07 ms for a heading and a
line); a long one in a thread, so that the loop goes on serving watches and reconciles: a 64 KiB
lecture takes up to ~30 ms, a hostile one (60,000 brackets, deep front matter) up to ~0.6 s.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from videojob.markdown_lecture import lecture_of_spec
from videojob.spec import VideoJobSpec
from videojob.storyboard import InvalidStoryboardError

from . import reasons
from .failures import BAD_INPUT_ADVICE, Diagnosis

logger = logging.getLogger(__name__)

PARSED_ON_THE_LOOP_MAX_CHARS = 2_000  # longer lectures are parsed in a thread


def refusal_of(spec: VideoJobSpec) -> Diagnosis | None:
    """Why the renderer would refuse this spec's lecture; None when it would draw it (or it is no lecture)."""
    try:
        lecture_of_spec(spec, warn=False)
    except InvalidStoryboardError as error:
        return Diagnosis(reasons.INVALID_STORYBOARD, f"{str(error).rstrip('.')}. {BAD_INPUT_ADVICE}")
    except Exception:  # a fault of the check, not of the lecture: it must never keep a render from starting
        logger.exception("checking a Markdown lecture failed; the renderer will judge it")
    return None


class LectureChecks:
    """:func:`refusal_of` once per VideoJob generation (the source is immutable; the language is not)."""

    def __init__(self) -> None:
        self._verdicts: dict[str, tuple[int, Diagnosis | None]] = {}

    async def refusal(self, body: Mapping[str, Any], spec: VideoJobSpec) -> Diagnosis | None:
        markdown = spec.source.markdown
        if markdown is None:
            return None
        metadata = body["metadata"]
        uid, generation = metadata["uid"], int(metadata.get("generation") or 0)
        known = self._verdicts.get(uid)
        if known is None or known[0] != generation:
            short = len(markdown) <= PARSED_ON_THE_LOOP_MAX_CHARS
            verdict = refusal_of(spec) if short else await asyncio.to_thread(refusal_of, spec)
            known = self._verdicts[uid] = (generation, verdict)
        return known[1]

    def forget(self, uid: str) -> None:
        self._verdicts.pop(uid, None)
