"""Real-time factor of the offline voices on one core: seconds of synthesis per second of speech.

    PYTHONSAFEPATH=1 .venv/bin/python -P benchmarks/narration_rtf.py [--lecture examples/lecture.md] [--repeat 3]

Every scene narration of the lecture is spoken by Piper's en_US-joe-medium (onnxruntime,
one thread, espeak-ng's phonemization included) and, as the baseline in the same run, by
espeak-ng itself, with this process (and so espeak-ng) pinned to one CPU. Wall and CPU
time per clip, best of --repeat (on a shared machine the CPU time says more: the wall
time includes waiting for the core); the voice's one-off load is printed apart. Not a
test: it prints its figures. The goal for Piper is a factor of at most 0.15.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import tempfile
import time
import wave
from dataclasses import dataclass
from pathlib import Path

from videojob.markdown_lecture import markdown_to_storyboard
from videojob.renderer.piper_voice import DEFAULT_PIPER_VOICE, PiperVoice
from videojob_devenv import REPO_ROOT


@dataclass(frozen=True)
class Clip:
    wall: float  # seconds of synthesis, wall clock
    cpu: float  # CPU seconds of synthesis: this process and the programs it ran
    audio: float  # seconds of speech


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def piper_clip(voice: PiperVoice, text: str) -> Clip:
    started, cpu = time.perf_counter(), _cpu()
    samples = voice.speak(text)
    return Clip(time.perf_counter() - started, _cpu() - cpu, samples.size / voice.config.sample_rate)


def espeak_clip(text: str, scratch: Path) -> Clip:
    target = scratch / "espeak.wav"
    started, cpu = time.perf_counter(), _cpu()
    command = ["espeak-ng", "-v", "en-us", "-s", "165", "-w", str(target), "--stdin"]
    subprocess.run(command, input=text.encode(), check=True)
    wall, spent = time.perf_counter() - started, _cpu() - cpu
    with wave.open(str(target)) as clip:
        return Clip(wall, spent, clip.getnframes() / clip.getframerate())


def _best(clips: list[Clip]) -> Clip:
    return min(clips, key=lambda clip: clip.wall)


def _total(clips: list[Clip]) -> Clip:
    return Clip(sum(c.wall for c in clips), sum(c.cpu for c in clips), sum(c.audio for c in clips))


def _row(clip: Clip, width: int) -> str:
    return f"{clip.audio:>{width}.2f} {clip.wall / clip.audio:>8.3f} {clip.cpu / clip.audio:>8.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lecture", type=Path, default=REPO_ROOT / "examples" / "lecture.md")
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})  # one core, inherited by espeak-ng
    narrations = [scene.narration for scene in markdown_to_storyboard(arguments.lecture.read_text()).scenes]
    started = time.perf_counter()
    voice = PiperVoice.named(DEFAULT_PIPER_VOICE)
    voice.speak("Warming up.")  # loads the model
    print(
        f"pinned to cpu {cpu}   load average before: {os.getloadavg()[0]:.1f}   "
        f"Piper voice load and first clip: {time.perf_counter() - started:.2f} s"
    )
    print(
        f"{'scene':>5} {'chars':>6} | {'piper audio s':>13} {'wall rtf':>8} {'cpu rtf':>8} | "
        f"{'espeak audio s':>14} {'wall rtf':>8} {'cpu rtf':>8}"
    )
    piper, espeak = [], []
    with tempfile.TemporaryDirectory(prefix="rtf-") as scratch:
        for number, text in enumerate(narrations, start=1):
            piper.append(_best([piper_clip(voice, text) for _ in range(arguments.repeat)]))
            espeak.append(_best([espeak_clip(text, Path(scratch)) for _ in range(arguments.repeat)]))
            print(f"{number:>5} {len(text):>6} | {_row(piper[-1], 13)} | {_row(espeak[-1], 14)}")
    characters = sum(map(len, narrations))
    print(f"{'all':>5} {characters:>6} | {_row(_total(piper), 13)} | {_row(_total(espeak), 14)}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
