"""One render from storyboard to stored video: narrate, draw, assemble, store.

Each step is a module of its own and returns what it made; this one only sequences
them, reports progress, and gathers the figures that go into the termination message.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from videojob.contract import Result, Usage
from videojob.renderer.assemble import AssembledVideo, NarrationTrack, assemble_video
from videojob.renderer.cache import CACHE_VERSION, VIDEO_FILES, SceneCache, VideoEntry, scene_key, video_key
from videojob.renderer.config import RenderConfig
from videojob.renderer.contact_sheet import cached_pictures, draw_contact_sheet
from videojob.renderer.narration import Narrator, build_narrator
from videojob.renderer.progress import Progress
from videojob.renderer.publish import publish
from videojob.renderer.stages import FinishedScene, finish_scenes
from videojob.renderer.usage import ResourceMeter
from videojob.storyboard import Storyboard


@dataclass
class RenderReport:
    """What happened, for the CLI's summary line and for tests."""

    result: Result
    scenes_rendered: int
    scenes_cached: int
    seconds: float
    storyboard: Storyboard


@dataclass(frozen=True)
class SceneDrawing:
    """How the assembling Pod of a fanned-out render gets its scenes (see shards.py): ``draw`` returns every
    scene in order, its ``own`` share drawn (or cached), the other Pods' taken from the cache as they
    appear, and the narration track it has fed with them meanwhile (``renderer/join_ahead.py``). Its
    usage counts only its own share: the operator adds the other Pods' figures."""

    draw: Callable[[list[str], Narrator, SceneCache, Path], tuple[list[FinishedScene], NarrationTrack]]
    own: int


def render_storyboard(
    storyboard: Storyboard,
    config: RenderConfig,
    progress: Progress,
    usage: Usage | None = None,
    drawing: SceneDrawing | None = None,
) -> RenderReport:
    """``storyboard`` rendered and stored as ``config`` says (see :func:`~videojob.renderer.config.resolve_config`);
    ``drawing``: by the assembling Pod of a fanned-out render."""
    started, meter = time.monotonic(), ResourceMeter.start()
    narrator = build_narrator(config.voices, config.openai_speech)
    cache = SceneCache.open(config.cache, config.s3)
    with (
        tempfile.TemporaryDirectory(prefix="videojob-", dir=config.work_dir) as scratch,
        ThreadPoolExecutor(2, thread_name_prefix="render-finish") as beside,
    ):
        work = Path(scratch)
        keys = scene_keys(storyboard, config)
        whole_key = video_key(keys, config.picture)
        video = _cached_video(cache, whole_key, narrator, work / "assembled")
        stored: Future[None] | None = None
        if video is not None:
            pictures = cached_pictures(cache, keys, work / "pictures")
            rendered, cached = 0, len(keys) if drawing is None else drawing.own
            from_cache = True
            progress.report("Rendering", f"All {len(keys)} scenes cached", 1.0, len(keys), len(keys))
            sheet = _start_sheet(beside, storyboard, config, pictures, work)
        else:
            track = None
            if drawing is None:
                scenes = finish_scenes(storyboard, keys, config, narrator, cache, work, progress)
            else:
                scenes, track = drawing.draw(keys, narrator, cache, work)
            pictures = [scene.last_frame for scene in scenes]
            cached = sum(scene.cached for scene in scenes)
            rendered = len(scenes) - cached
            from_cache = rendered == 0 and drawing is None  # a fan-out's other Pods may have drawn them just now
            if drawing is not None:
                cached = max(0, drawing.own - rendered)
            progress.report("Assembling", "Assembling video", 0.0)
            # The contact sheet (CPU) is drawn while ffmpeg joins and the files travel to S3 (waiting mostly).
            sheet = _start_sheet(beside, storyboard, config, pictures, work)
            video = assemble_video(scenes, config.preset.fps, work / "assembled", track)
            entry = VideoEntry(
                version=CACHE_VERSION,
                files=VIDEO_FILES,
                duration_seconds=video.duration_seconds,
                voices=list(video.voices),
            )
            stored = beside.submit(cache.put_video, whole_key, video.files, entry)
        progress.report("Uploading", "Uploading", 0.0)
        output = publish(video, config, cached=from_cache, contact_sheet=sheet.result() if sheet else None)
        if stored is not None:
            stored.result()
        usage = (usage or Usage()).model_copy(
            update={
                "tts_characters": narrator.characters,
                **meter.figures(),
                "scenes_rendered": rendered,
                "scenes_cached": cached,
            }
        )
        progress.report("Uploading", "Done", 1.0)
    return RenderReport(Result(output=output, usage=usage), rendered, cached, time.monotonic() - started, storyboard)


def _start_sheet(
    beside: ThreadPoolExecutor,
    storyboard: Storyboard,
    config: RenderConfig,
    pictures: Sequence[Path] | None,
    work: Path,
) -> Future[Path] | None:
    return beside.submit(draw_contact_sheet, storyboard, config, pictures, work / "sheet") if pictures else None


def scene_keys(storyboard: Storyboard, config: RenderConfig) -> list[str]:
    """The cache key of every scene, in order: what a single-Pod render and every share of a fan-out look up."""
    return [
        scene_key(
            scene.visual.model_dump(mode="json"), scene.narration, storyboard.theme, config.picture, config.voice_chain
        )
        for scene in storyboard.scenes
    ]


def _cached_video(cache: SceneCache, key: str, narrator: Narrator, into: Path) -> AssembledVideo | None:
    """The assembled video of identical scenes, so a fully cached re-run runs no ffmpeg at all; only when
    every scene in it was spoken by the chain's first choice (else the scenes are looked at one by one)."""
    entry = cache.video(key)
    if entry is None or any(voice != narrator.first_choice for voice in entry.voices):
        return None
    if not cache.fetch_video(key, into):  # removed by the cache's retention since it was looked up
        return None
    return AssembledVideo(
        video=into / VIDEO_FILES["video"],
        vtt=into / VIDEO_FILES["vtt"],
        srt=into / VIDEO_FILES["srt"],
        thumbnail=into / VIDEO_FILES["thumbnail"],
        duration_seconds=entry.duration_seconds,
        voices=tuple(entry.voices),
    )
