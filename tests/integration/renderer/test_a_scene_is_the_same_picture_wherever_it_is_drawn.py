"""A scene's decoded frames do not depend on where it was drawn: on how many CPUs its process may run on
(a Pod on another node, a kubelet's cpuset, a taskset), or on which scene its process drew before it.

A fan-out's video joins scenes drawn by several Pods and promises the decoded frames a single Pod
makes; a scene is also reused from the cache by any later render. Real Manim, real libx264 (through
PyAV), real ffmpeg decoding every frame (``-f framemd5``); each scene is drawn in a process of its own,
forked from this one, as the renderer's scene workers are.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
from pathlib import Path

import pytest

from videojob.renderer.manim_render import SceneJob, render_scene
from videojob.renderer.timing import plan_scene

FPS = 15
# Forked workers would turn Manim's own deprecation warnings into errors (as in the scene workers' tests).
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

TITLE = {"kind": "title_card", "title": "Waves carry energy", "subtitle": "not matter"}
BULLETS = {"kind": "bullet_list", "heading": "Two kinds", "bullets": ["transverse", "longitudinal"]}


def _job(index: int, visual: dict, target: Path) -> SceneJob:
    return SceneJob(index, visual, "A short narration.", "physics", plan_scene(2.0, FPS), 854, 480, target)


def _draw_in_a_child(jobs: list[SceneJob], cpus: set[int] | None) -> None:
    """Draw ``jobs`` one after the other in one forked process, limited to ``cpus`` when given."""

    def draw() -> None:
        if cpus is not None:
            os.sched_setaffinity(0, cpus)
        for job in jobs:
            render_scene(job)

    child = multiprocessing.get_context("fork").Process(target=draw)
    child.start()
    child.join(timeout=300)
    assert child.exitcode == 0, f"drawing {[job.target.name for job in jobs]} failed (exit {child.exitcode})"


def _decoded_frames(video: Path) -> list[str]:
    run = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(video), "-f", "framemd5", "-"], capture_output=True, text=True, check=True
    )
    frames = [line.rsplit(",", 1)[-1].strip() for line in run.stdout.splitlines() if not line.startswith("#")]
    assert frames, f"{video} has no frames"
    return frames


def _differing(first: list[str], second: list[str]) -> list[int]:
    assert len(first) == len(second)
    return [number for number, (a, b) in enumerate(zip(first, second, strict=True)) if a != b]


def test_a_scene_drawn_on_one_cpu_is_the_scene_drawn_on_every_cpu(tmp_path):
    every_cpu = os.sched_getaffinity(0)
    if len(every_cpu) < 2:
        pytest.skip(
            f"needs a process that may run on 2 CPUs or more, to pin one to a single CPU; this one has {every_cpu}"
        )
    _draw_in_a_child([_job(0, TITLE, tmp_path / "free.mp4")], None)
    _draw_in_a_child([_job(0, TITLE, tmp_path / "pinned.mp4")], {min(every_cpu)})
    free, pinned = _decoded_frames(tmp_path / "free.mp4"), _decoded_frames(tmp_path / "pinned.mp4")
    assert _differing(free, pinned) == [], "the frames differ with the CPUs the encoder may use"


def test_a_scene_drawn_after_another_is_the_scene_drawn_first(tmp_path):
    _draw_in_a_child(
        [_job(0, TITLE, tmp_path / "title-first.mp4"), _job(1, BULLETS, tmp_path / "bullets-second.mp4")], None
    )
    _draw_in_a_child(
        [_job(1, BULLETS, tmp_path / "bullets-first.mp4"), _job(0, TITLE, tmp_path / "title-second.mp4")], None
    )
    for name in ("title", "bullets"):
        first, second = (_decoded_frames(tmp_path / f"{name}-{order}.mp4") for order in ("first", "second"))
        assert _differing(first, second) == [], f"the {name} scene changed with the scene drawn before it"
