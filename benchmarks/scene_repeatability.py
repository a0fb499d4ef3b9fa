"""Is a scene the same picture every time it is drawn? Fresh processes, this tree's encoder against a baseline.

    PYTHONSAFEPATH=1 .venv/bin/python -P benchmarks/scene_repeatability.py [--runs 20]
        [--baseline-options '{"preset": "veryfast", "threads": "2"}']

Each run is a fresh process that draws the fan-out e2e's storyboard (tides: six scenes, low
quality, espeak's narration lengths) with the real ``render_scene``, one scene after another
in the order a single Pod with one worker draws them (the longest narration first), and
records for every scene an MD5 of each frame Manim hands to the encoder (the drawn pixels)
and of each frame FFmpeg decodes from the scene's video (what a viewer sees). The runs
alternate between this tree's ``manim_render.ENCODER_OPTIONS`` and the baseline options
(default: what the renderer used before, PyAV's default slice threads), so both see the same
load. Printed per setting: the distinct outcomes of each scene, drawn and decoded (1 is
repeatable), the runs in which any scene's decoded frames differed from the setting's most
common outcome, and CPU and wall seconds per run (median), with the load average. On a
shared machine compare the CPU seconds; the wall seconds follow the load. Not a test.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import importlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SLICE_THREADS = {"preset": "veryfast", "threads": "2"}  # the renderer's options before frame threads


def storyboard() -> dict:
    """The fan-out e2e's storyboard, from the test itself (one definition)."""
    sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "e2e")]
    fanout_e2e = importlib.import_module("test_scene_fanout_on_a_real_node")
    return dict(fanout_e2e.STORYBOARD)


def narration_seconds(scenes: list[dict]) -> list[float]:
    from videojob.renderer.narration import EspeakEngine, Narrator, TtsVoice

    narrator = Narrator((TtsVoice("espeak", "en-us"),), {"espeak": EspeakEngine()})
    with tempfile.TemporaryDirectory() as scratch:
        return [narrator.speak(s["narration"], Path(scratch) / f"{n}.wav").seconds for n, s in enumerate(scenes)]


def draw(out: Path, options: dict[str, str], seconds: list[float]) -> None:
    """In a fresh process: draw every scene as a one-worker Pod does, with ``options`` for the encoder."""
    from manim.scene import scene_file_writer

    from videojob.quality import QUALITY_PRESETS
    from videojob.renderer import manim_render
    from videojob.renderer.timing import plan_scene
    from videojob.storyboard import Storyboard

    manim_render.ENCODER_OPTIONS = options  # read by render_scene at every scene
    drawn: list[str] = []
    handed_over = scene_file_writer.SceneFileWriter.write_frame

    def recorded(writer: Any, pixels: Any, *, repeat: int = 1) -> None:
        drawn.append(f"{hashlib.md5(pixels.tobytes()).hexdigest()}x{repeat}")
        handed_over(writer, pixels, repeat=repeat)

    scene_file_writer.SceneFileWriter.write_frame = recorded  # type: ignore[method-assign,assignment]  # observes
    board = Storyboard.model_validate(storyboard())
    low = QUALITY_PRESETS["low"]
    order = sorted(range(len(board.scenes)), key=lambda n: -len(board.scenes[n].narration))
    outcome = {}
    for index in order:
        scene, drawn[:] = board.scenes[index], []
        job = manim_render.SceneJob(index, scene.visual.model_dump(mode="json"), scene.narration, board.theme,
                                    plan_scene(seconds[index], low.fps), low.width, low.height,
                                    out / f"scene-{index}.mp4")  # fmt: skip
        manim_render.render_scene(job)
        outcome[index] = {"drawn": list(drawn), "decoded": decoded_frames(job.target)}
    (out / "outcome.json").write_text(json.dumps(outcome))


def decoded_frames(video: Path) -> list[str]:
    run = subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-f", "framemd5", "-"],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return [line.rsplit(",", 1)[-1].strip() for line in run.stdout.splitlines() if not line.startswith("#")]


def one_run(out: Path, options: dict[str, str], seconds: list[float]) -> dict:
    before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    child = [sys.executable, "-P", __file__, "--child", str(out), json.dumps(options), json.dumps(seconds)]
    subprocess.run(child, check=True, cwd=ROOT, env={**os.environ, "PYTHONSAFEPATH": "1"})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    outcome = json.loads((out / "outcome.json").read_text())
    return {"cpu": cpu, "wall": time.monotonic() - started, "load": os.getloadavg()[0], "scenes": outcome}


def report(name: str, options: dict[str, str], runs: list[dict]) -> None:
    scenes = sorted(runs[0]["scenes"], key=int)
    shapes = {
        kind: [len({json.dumps(r["scenes"][s][kind]) for r in runs}) for s in scenes] for kind in ("drawn", "decoded")
    }
    usual = {
        s: collections.Counter(json.dumps(r["scenes"][s]["decoded"]) for r in runs).most_common(1)[0][0] for s in scenes
    }
    apart = [n for n, r in enumerate(runs) if any(json.dumps(r["scenes"][s]["decoded"]) != usual[s] for s in scenes)]
    print(f"{name:9} {json.dumps(options)}")
    print(f"          outcomes per scene 1..{len(scenes)}: drawn {shapes['drawn']}, decoded {shapes['decoded']}")
    print(f"          runs with a scene decoded differently: {len(apart)} of {len(runs)}")
    print(f"          per run: CPU {statistics.median(r['cpu'] for r in runs):.2f} s, "
          f"wall {statistics.median(r['wall'] for r in runs):.2f} s (median); "
          f"load {min(r['load'] for r in runs):.1f}-{max(r['load'] for r in runs):.1f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="fresh processes per setting")
    parser.add_argument("--baseline-options", default=json.dumps(SLICE_THREADS), help="encoder options, JSON")
    arguments = parser.parse_args()
    from videojob.renderer.manim_render import ENCODER_OPTIONS

    settings = {"this tree": dict(ENCODER_OPTIONS), "baseline": json.loads(arguments.baseline_options)}
    seconds = narration_seconds(storyboard()["scenes"])
    runs: dict[str, list[dict]] = {name: [] for name in settings}
    with tempfile.TemporaryDirectory(prefix="repeatability-") as scratch:
        for number in range(arguments.runs):
            for name, options in settings.items():  # alternating: both see the same load
                out = Path(scratch) / f"{name.replace(' ', '-')}-{number}"
                out.mkdir()
                runs[name].append(one_run(out, options, seconds))
            print(f"run {number + 1}/{arguments.runs} done, load {os.getloadavg()[0]:.1f}", file=sys.stderr)
    for name, options in settings.items():
        report(name, options, runs[name])


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        draw(Path(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4]))
    else:
        main()
