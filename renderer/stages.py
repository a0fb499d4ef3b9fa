"""The per-scene stages: each scene is taken from the cache or narrated, then drawn.

Every stage returns what it made (:class:`NarratedScene`, then :class:`FinishedScene`)
for the next to use; nothing is left in a folder for a later stage to find.

Narration overlaps drawing: scenes are narrated while Manim is imported (a core would
otherwise wait), and once it is, each is handed to the scene workers as soon as its speech
exists (its length paces the animation) while the next one is narrated. A short scene
per worker is spoken first, so that every worker starts drawing soon after Manim is
imported instead of waiting for the longest narrations; then the longest first, so the
long scenes start drawing early and the workers finish together (:func:`narration_order`).

A cached scene is used only when the voice that spoke it is the one this render would
speak with: the chain's first choice, or a fallback when every voice the chain prefers
to it fails now. So a scene narrated by espeak while OpenAI was down is narrated
again, and drawn again, once OpenAI answers; while it stays down the cached scene
serves, at the cost of one failed request per render (a failed voice is not retried).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from videojob.renderer.cache import CACHE_VERSION, SCENE_FILES, SceneCache, SceneEntry
from videojob.renderer.config import RenderConfig
from videojob.renderer.manim_render import RenderedScene, SceneJob
from videojob.renderer.narration import Narrator, Speech
from videojob.renderer.progress import Progress
from videojob.renderer.scene_workers import SceneWorkers
from videojob.renderer.timing import plan_scene
from videojob.storyboard import Storyboard


@dataclass(frozen=True)
class NarratedScene:
    """A scene whose speech exists and whose picture is still to be drawn."""

    index: int
    key: str
    narration: str
    folder: Path
    speech: Speech


@dataclass(frozen=True)
class FinishedScene:
    """A scene ready to be assembled: drawn now, or taken from the cache."""

    index: int
    narration: str
    video: Path  # silent H.264
    last_frame: Path
    speech: Speech
    frames: int  # the scene's real length: the narration track is padded to it
    cached: bool


def _from_cache(index: int, narration: str, folder: Path, entry: SceneEntry) -> FinishedScene:
    return FinishedScene(
        index,
        narration,
        folder / SCENE_FILES["video"],
        folder / SCENE_FILES["last_frame"],
        Speech(folder / SCENE_FILES["speech"], entry.speech_samples, entry.voice),
        entry.frames,
        cached=True,
    )


@dataclass(frozen=True)
class _Pending:
    """A scene to narrate (unless a preferred voice already spoke it) and draw."""

    index: int
    key: str
    folder: Path
    speech: Speech | None


def finish_scenes(
    storyboard: Storyboard,
    keys: list[str],
    config: RenderConfig,
    narrator: Narrator,
    cache: SceneCache,
    work: Path,
    progress: Progress,
) -> list[FinishedScene]:
    """Every scene of ``storyboard``, in order, from the cache where it may be used, else narrated and drawn."""
    total = len(storyboard.scenes)
    finished: dict[int, FinishedScene] = {}
    pending: list[_Pending] = []
    for index, (scene, key) in enumerate(zip(storyboard.scenes, keys, strict=True)):
        folder = work / f"scene-{index:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        entry, speech = cache.scene(key), None
        if entry is not None and entry.voice != narrator.first_choice:
            speech = narrator.speak_better_than(entry.voice, scene.narration, folder / SCENE_FILES["speech"])
            entry = None if speech is not None else entry  # a preferred voice answers now: speak and draw anew
        if entry is not None and cache.fetch_scene(key, folder):  # False: removed by the cache's retention meanwhile
            finished[index] = _from_cache(index, scene.narration, folder, entry)
        else:
            pending.append(_Pending(index, key, folder, speech))
    if pending:
        narrator.prepare()  # the voice loads while Manim is imported
        try:
            _narrate_and_draw(storyboard, pending, config, narrator, cache, progress, finished)
        finally:
            narrator.close()  # every scene is spoken: the voice's worker ends, and its CPU time is counted
    return [finished[index] for index in range(total)]


def _narrate_and_draw(
    storyboard: Storyboard,
    pending: list[_Pending],
    config: RenderConfig,
    narrator: Narrator,
    cache: SceneCache,
    progress: Progress,
    finished: dict[int, FinishedScene],
) -> None:
    """Narrate the pending scenes in :func:`narration_order`, each handed to the workers as soon as it is spoken."""
    total, preset = len(storyboard.scenes), config.preset
    narrated: dict[int, NarratedScene] = {}

    def done(rendered: RenderedScene) -> None:
        scene = narrated[rendered.index]
        finished[scene.index] = FinishedScene(
            scene.index, scene.narration, rendered.video, rendered.last_frame, scene.speech, rendered.frames, False
        )
        entry = SceneEntry(
            version=CACHE_VERSION,
            files=SCENE_FILES,
            voice=scene.speech.voice,
            frames=rendered.frames,
            fps=preset.fps,
            speech_samples=scene.speech.samples,
        )
        cache.put_scene(
            scene.key, {"video": rendered.video, "speech": scene.speech.path, "last_frame": rendered.last_frame}, entry
        )
        count = len(finished)  # the cached ones and those drawn so far
        progress.report("Rendering", f"Rendering scene {count}/{total}", count / total, count, total)

    def job(scene: NarratedScene) -> SceneJob:
        return SceneJob(
            scene.index,
            storyboard.scenes[scene.index].visual.model_dump(mode="json"),
            scene.narration,
            storyboard.theme,
            plan_scene(scene.speech.seconds, preset.fps),
            preset.width,
            preset.height,
            scene.folder / SCENE_FILES["video"],
        )

    order = narration_order(pending, storyboard, config.parallel_scenes)
    spoken: list[NarratedScene] = []  # narrated while Manim is still being imported: drawn once it is
    with SceneWorkers(config.parallel_scenes, done) as workers:
        for number, scene in enumerate(order, start=1):
            narration = storyboard.scenes[scene.index].narration
            if not workers.started:
                stage = f"Narrating scene {number} of {len(order)}"
                progress.report("Scripting", stage, (number - 1) / len(order), number, len(order))
            else:
                stage = f"Narrating scene {number} of {len(order)}, drawing {workers.drawing}"
                progress.report("Rendering", stage, len(finished) / total, len(finished) or None, total)
            speech = scene.speech or narrator.speak(narration, scene.folder / SCENE_FILES["speech"])
            narrated[scene.index] = NarratedScene(scene.index, scene.key, narration, scene.folder, speech)
            spoken.append(narrated[scene.index])
            last = number == len(order)
            if last:
                narrator.close()  # all spoken: the voice's memory is free for the scenes still to draw
            # One worker draws in this process, so drawing would only take turns with the narration:
            # everything is spoken first, and the voice's worker is gone before the first scene is drawn.
            if (workers.ready and workers.workers > 1) or last:
                if not workers.started:
                    cached = total - len(order)
                    stage = f"Rendering {len(order)} of {total} scenes ({cached} cached)"
                    progress.report("Rendering", stage, cached / total, None, total)
                for ready in spoken:  # in the order they were narrated
                    workers.submit(job(ready))
                spoken.clear()
            workers.collect()


def narration_order(pending: list[_Pending], storyboard: Storyboard, workers: int) -> list[_Pending]:
    """Longest narration first (the longest scenes draw first, the workers finish together), except that
    with scene workers and more scenes than workers, one short scene per worker goes first, shortest
    first: they are spoken soonest, so every worker is drawing soon after Manim is imported instead of
    waiting while the longest narrations are spoken (drawing shares the cores with the voice)."""
    order = sorted(pending, key=lambda scene: -len(storyboard.scenes[scene.index].narration))
    if workers > 1 and len(order) > workers:
        openers = order[-workers:][::-1]
        order = openers + order[:-workers]
    return order
