"""WebVTT and SRT subtitles from the narration and the real scene timings."""

from __future__ import annotations

from dataclasses import dataclass

from videojob.renderer.timing import speech_chunks


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class SpokenScene:
    """Where one scene's speech lies on the video's timeline."""

    narration: str
    speech_start: float  # seconds from the start of the video
    speech_seconds: float


def build_cues(scenes: list[SpokenScene]) -> list[Cue]:
    """Back-to-back cues spanning each scene's speech, each lasting in proportion to its length."""
    cues = []
    for scene in scenes:
        chunks = speech_chunks(scene.narration)
        weights = [len(chunk) + 8 for chunk in chunks]  # +8: short phrases still take a moment to say
        total = sum(weights)
        start = scene.speech_start
        for chunk, weight in zip(chunks, weights, strict=True):
            end = start + scene.speech_seconds * weight / total
            cues.append(Cue(round(start, 3), round(end, 3), chunk))
            start = end
    return cues


def _clock(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def to_webvtt(cues: list[Cue]) -> str:
    lines = ["WEBVTT", ""]
    for cue in cues:
        lines += [f"{_clock(cue.start, '.')} --> {_clock(cue.end, '.')}", cue.text, ""]
    return "\n".join(lines)


def to_srt(cues: list[Cue]) -> str:
    lines = []
    for number, cue in enumerate(cues, start=1):
        lines += [str(number), f"{_clock(cue.start, ',')} --> {_clock(cue.end, ',')}", cue.text, ""]
    return "\n".join(lines)
