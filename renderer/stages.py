"""The per-scene stages: each scene is taken from the cache or narrated, then drawn.

Every stage returns what it made (:class:`NarratedScene`, then :class:`FinishedScene`)
for the next to use; nothing is left in a folder for a later stage to find.

A cached scene is used only when the voice that spoke it is the one this render would
speak with: the chain's first choice, or a fallback when every voice the chain prefers
to it fails now. So a scene narrated by espeak while OpenAI was down is narrated
again, and drawn again, once OpenAI answers; while it stays down the cached scene
serves, at the cost of one failed request per render (a failed voice is not retried).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from videojob.renderer.cache import CACHE_VERSION, SCENE_FILES, SceneCache, SceneEntry
from videojob.renderer.config import RenderConfig
from videojob.renderer.manim_render import RenderedScene, SceneJob, preload, render_all
from videojob.renderer.narration import Narrator, Speech
from videojob.renderer.progress import Progress
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
    narrated: list[NarratedScene] = []
    importing: threading.Thread | None = None
    for index, (scene, key) in enumerate(zip(storyboard.scenes, keys, strict=True)):
        folder = work / f"scene-{index:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        entry, speech = cache.scene(key), None
        if entry is not None and entry.voice != narrator.first_choice:
            speech = narrator.speak_better_than(entry.voice, scene.narration, folder / SCENE_FILES["speech"])
            entry = None if speech is not None else entry  # a preferred voice answers now: speak and draw anew
        if entry is not None:
            cache.fetch_scene(key, folder)
            finished[index] = _from_cache(index, scene.narration, folder, entry)
            continue
        if importing is None:  # Manim's import (seconds) overlaps the text-to-speech subprocesses
            importing = threading.Thread(target=preload, name="import-manim", daemon=True)
            importing.start()
        progress.report("Scripting", f"Narrating scene {index + 1}/{total}", index / total, index + 1, total)
        speech = speech or narrator.speak(scene.narration, folder / SCENE_FILES["speech"])
        narrated.append(NarratedScene(index, key, scene.narration, folder, speech))
    if importing is not None:
        importing.join()  # no thread may be running when the scene workers are forked
    _draw(storyboard, narrated, config, cache, progress, finished)
    return [finished[index] for index in range(total)]


def _draw(
    storyboard: Storyboard,
    narrated: list[NarratedScene],
    config: RenderConfig,
    cache: SceneCache,
    progress: Progress,
    finished: dict[int, FinishedScene],
) -> None:
    """Draw the narrated scenes in parallel, caching each (with who spoke it) as soon as it is done."""
    total, preset = len(storyboard.scenes), config.preset
    cached = total - len(narrated)
    progress.report(
        "Rendering", f"Rendering {len(narrated)} of {total} scenes ({cached} cached)", cached / total, None, total
    )
    by_index = {scene.index: scene for scene in narrated}
    jobs = [
        SceneJob(
            scene.index,
            storyboard.scenes[scene.index].visual.model_dump(mode="json"),
            scene.narration,
            storyboard.theme,
            plan_scene(scene.speech.seconds, preset.fps),
            preset.width,
            preset.height,
            scene.folder / SCENE_FILES["video"],
        )
        for scene in narrated
    ]

    def done(rendered: RenderedScene) -> None:
        scene = by_index[rendered.index]
        finished[scene.index] = FinishedScene(
            scene.index,
            scene.narration,
            rendered.video,
            rendered.last_frame,
            scene.speech,
            rendered.frames,
            cached=False,
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

    render_all(jobs, config.parallel_scenes, done)
