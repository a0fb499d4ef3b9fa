"""Narration overlaps drawing: a scene handed to the scene workers draws in a worker process while
the caller goes on narrating the next one (real Manim in forked workers, real Piper speech)."""

import time

import pytest

from videojob.renderer import piper_worker
from videojob.renderer.manim_render import RenderedScene, SceneJob
from videojob.renderer.narration import OpenAISpeech, build_narrator, choose_voices
from videojob.renderer.scene_workers import SceneWorkers
from videojob.renderer.timing import plan_scene

FPS = 15
# The workers draw in processes forked from this one, so pytest's warnings-as-errors would reach Manim's
# own deprecation warnings (pydub's audioop, Mobject.get_*/set_*); a render from the CLI only logs them.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _job(index: int, seconds: float, tmp_path) -> SceneJob:
    visual = {"kind": "title_card", "title": f"Scene {index + 1}"}
    return SceneJob(
        index, visual, "Narration.", "default", plan_scene(seconds, FPS), 854, 480, tmp_path / f"{index}.mp4"
    )


def test_a_scene_draws_in_a_worker_while_the_next_one_is_narrated(tmp_path):
    narrator = build_narrator(choose_voices(None, "en"), OpenAISpeech())
    drawn: list[RenderedScene] = []
    with SceneWorkers(2, drawn.append) as workers:
        first = narrator.speak("The first scene is spoken while Manim is imported.", tmp_path / "first.wav")
        while not workers.ready:
            time.sleep(0.05)
        started = time.monotonic()
        workers.submit(_job(0, first.seconds, tmp_path))
        handed_over = time.monotonic() - started
        second = narrator.speak("This one is spoken while the first is drawn.", tmp_path / "second.wav")
        narrated_while_drawing = not drawn  # finished scenes are handed back only by collect()
        voice = piper_worker._WORKER._process
        assert voice is not None
        narrator.close()  # the scene worker forked after the voice's worker holds its pipe: asked, it stops anyway
        voice_stopped = voice.returncode
        workers.submit(_job(1, second.seconds, tmp_path))
        workers.collect(block=True)
        whole = time.monotonic() - started
    assert narrated_while_drawing
    assert voice_stopped == 0, "the voice's worker had to be killed"
    assert handed_over < whole / 3, f"submitting took {handed_over:.2f} s of {whole:.2f} s: it drew in the caller"
    assert sorted(scene.index for scene in drawn) == [0, 1]
    assert all(
        scene.frames == round(plan_scene(s.seconds, FPS).duration * FPS)
        for scene, s in zip(sorted(drawn, key=lambda scene: scene.index), (first, second), strict=True)
    )


def test_with_one_worker_scenes_are_drawn_in_the_caller_one_after_the_other(tmp_path):
    drawn: list[RenderedScene] = []
    with SceneWorkers(1, drawn.append) as workers:
        workers.submit(_job(0, 1.0, tmp_path))
        assert [scene.index for scene in drawn] == [0]  # done before submit returned: no fork on one core
