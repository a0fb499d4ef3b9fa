"""How long each scene lasts and where its speech sits: pure arithmetic, no media.

A scene is ``LEAD_IN`` seconds of quiet while the visual appears, then the speech,
then ``TAIL`` seconds to let it land. The video is the authority: once a scene is
rendered its real frame count fixes its length, and the narration track is padded
to match sample for sample, so video and audio cannot drift apart.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

LEAD_IN = 0.4
TAIL = 0.6


@dataclass(frozen=True)
class SceneTiming:
    """What a scene template needs to pace itself."""

    duration: float  # whole frames
    speech_start: float
    speech_seconds: float
    fps: int


def plan_scene(speech_seconds: float, fps: int) -> SceneTiming:
    frames = math.ceil((LEAD_IN + speech_seconds + TAIL) * fps)
    return SceneTiming(duration=frames / fps, speech_start=LEAD_IN, speech_seconds=speech_seconds, fps=fps)


def reveal_times(narration: str, items: list[str], timing: SceneTiming) -> list[float]:
    """When each item should appear: as the narrator reaches its words, else evenly through the speech."""
    text = narration.lower()
    times, search_from, fallback = [], 0, False
    for item in items:
        found = text.find(item.lower()[:40], search_from)
        if found < 0:
            fallback = True
            break
        times.append(timing.speech_start + timing.speech_seconds * found / max(1, len(text)))
        search_from = found + 1
    if fallback:
        step = timing.speech_seconds / (len(items) + 1)
        times = [timing.speech_start + step * index for index in range(len(items))]
    return times


def speech_chunks(narration: str, max_chars: int = 84) -> list[str]:
    """The narration cut into subtitle-sized pieces at sentence, then clause, then word breaks."""
    chunks: list[str] = []
    for sentence in re.split(r"(?<=[.!?;:])\s+", narration.strip()):
        while len(sentence) > max_chars:
            cut = max(sentence.rfind(", ", 0, max_chars), sentence.rfind(" ", 0, max_chars))
            cut = cut if cut > max_chars // 3 else max_chars
            chunks.append(sentence[: cut + 1].strip())
            sentence = sentence[cut + 1 :].strip()
        if sentence:
            chunks.append(sentence)
    return chunks
