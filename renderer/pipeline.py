"""One render from storyboard to stored video: narrate, draw, assemble, store.

Each step is a module of its own; this one only sequences them, reports
progress, and gathers the figures that go into the termination message.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from videojob.contract import StoredOutput, Result, Subtitles, Usage
from videojob.renderer import assemble
from videojob.renderer.cache import SceneCache, scene_key, video_key
from videojob.renderer.errors import InvalidSourceError
from videojob.renderer.manim_render import LAST_FRAME, RenderedScene, SceneJob, preload, render_all
from videojob.renderer.narration import SAMPLE_RATE, Narrator, build_narrator, wav_samples, write_track
from videojob.renderer.progress import Progress
from videojob.renderer.settings import RendererSettings
from videojob.renderer.storage import BlobStore, FileStore, S3Store, parse_location, s3_client
from videojob.renderer.subtitles import SpokenScene, build_cues, to_srt, to_webvtt
from videojob.renderer.timing import LEAD_IN, plan_scene
from videojob.s3 import job_output_prefix
from videojob.storyboard import THEMES, Storyboard


@dataclass
class ScenePlan:
    index: int
    key: str
    folder: Path
    narration: str
    cached: bool = False
    speech_samples: int = 0
    frames: int = 0


@dataclass
class RenderReport:
    """What happened, for the CLI's summary line and for tests."""

    result: Result
    scenes_rendered: int
    scenes_cached: int
    seconds: float
    storyboard: Storyboard


def open_store(location: str, settings: RendererSettings) -> tuple[BlobStore, str]:
    """The store for ``location`` and the key prefix inside it."""
    scheme, where, prefix = parse_location(location)
    if scheme == "file":
        return FileStore(Path(where)), prefix
    client = s3_client(settings.s3_endpoint, settings.s3_access_key, settings.s3_secret_key.get_secret_value(),
                       settings.s3_region)
    return S3Store(client, where, attempts=settings.upload_attempts), prefix


def open_cache(settings: RendererSettings) -> SceneCache:
    location = settings.cache
    if location == "off":
        return SceneCache(None)
    if location is None:
        scheme, bucket, _ = parse_location(settings.output)
        if scheme == "s3":
            location = f"s3://{bucket}/cache"
        else:
            cache_home = Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser()
            location = f"file://{cache_home / 'videojob' / 'renderer'}"
    store, prefix = open_store(location, settings)
    return SceneCache(store, prefix=f"{prefix}/scenes" if prefix else "scenes",
                      videos_prefix=f"{prefix}/videos" if prefix else "videos")


def output_prefix(settings: RendererSettings) -> str:
    if settings.output_prefix is not None:
        return settings.output_prefix.strip("/")
    scheme, _, prefix = parse_location(settings.output)
    if scheme == "file":
        return prefix
    return job_output_prefix(settings.namespace, settings.job_name, settings.job_uid, prefix).rstrip("/")


def render_storyboard(storyboard: Storyboard, settings: RendererSettings, progress: Progress,
                      usage: Usage | None = None) -> RenderReport:
    started, cpu_started = time.monotonic(), _cpu_seconds()
    if settings.theme:
        if settings.theme not in THEMES:
            raise InvalidSourceError(f"unknown theme {settings.theme!r}; use one of: {', '.join(THEMES)}")
        storyboard = storyboard.model_copy(update={"theme": settings.theme})
    if "voice" not in settings.model_fields_set and not storyboard.language.startswith("en"):
        settings = settings.model_copy(update={"voice": f"espeak:{storyboard.language.lower()}"})  # speak its language
    narrator = build_narrator(
        settings.voice,
        settings.openai_api_key.get_secret_value() if settings.openai_api_key else None,
        settings.llm_base_url, settings.tts_model, settings.tts_timeout_seconds,
    )
    cache = open_cache(settings)
    with tempfile.TemporaryDirectory(prefix="videojob-", dir=settings.work_dir) as scratch:
        work = Path(scratch)
        keys = [scene_key(scene.visual.model_dump(mode="json"), scene.narration, storyboard.theme, settings.quality,
                          settings.voice) for scene in storyboard.scenes]
        assembled = work / "assembled"
        whole_key = video_key(keys, settings.quality)
        rendered: list[RenderedScene] = []
        if cache.fetch_video(whole_key, assembled):
            cached_scenes = len(keys)
            progress.report("Rendering", f"All {len(keys)} scenes cached", 1.0, len(keys), len(keys))
        else:
            plans, jobs = _narrate_or_fetch(storyboard, keys, settings, narrator, cache, work, progress)
            rendered = _render(jobs, plans, settings, cache, progress)
            cached_scenes = sum(plan.cached for plan in plans)
            progress.report("Assembling", "Assembling video", 0.0)
            _assemble(plans, settings, assembled)
            cache.put_video(whole_key, assembled)
        progress.report("Uploading", "Uploading", 0.0)
        output = _store(settings, assembled, cached_scenes == len(keys))
        usage = (usage or Usage()).model_copy(update={
            "tts_characters": narrator.characters,
            "cpu_seconds": round(_cpu_seconds() - cpu_started, 2),
            "scenes_rendered": len(rendered),
            "scenes_cached": cached_scenes,
        })
        progress.report("Uploading", "Done", 1.0)
    return RenderReport(Result(output=output, usage=usage), len(rendered), usage.scenes_cached,
                        time.monotonic() - started, storyboard)


def _cpu_seconds() -> float:
    """CPU used by this process and every child it has waited for: scene workers, TeX, ffmpeg, espeak."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _narrate_or_fetch(storyboard: Storyboard, keys: list[str], settings: RendererSettings, narrator: Narrator,
                      cache: SceneCache, work: Path, progress: Progress) -> tuple[list[ScenePlan], list[SceneJob]]:
    preset = settings.preset
    plans, jobs = [], []
    total = len(storyboard.scenes)
    importing: threading.Thread | None = None
    for index, (scene, key) in enumerate(zip(storyboard.scenes, keys)):
        visual = scene.visual.model_dump(mode="json")
        plan = ScenePlan(index, key, work / f"scene-{index:03d}", scene.narration)
        plan.cached = cache.fetch(key, plan.folder)
        if not plan.cached:
            if importing is None:  # Manim's import (seconds) overlaps the text-to-speech subprocesses
                importing = threading.Thread(target=preload, name="import-manim", daemon=True)
                importing.start()
            progress.report("Scripting", f"Narrating scene {index + 1}/{total}", index / total, index + 1, total)
            plan.folder.mkdir(parents=True, exist_ok=True)
            speech = narrator.speak(scene.narration, plan.folder / "speech.wav")
            jobs.append(SceneJob(index, visual, scene.narration, storyboard.theme,
                                 plan_scene(speech.seconds, preset.fps), preset.width, preset.height,
                                 plan.folder / "scene.mp4"))
        plans.append(plan)
    if importing is not None:
        importing.join()  # no thread may be running when the scene workers are forked
    return plans, jobs


def _render(jobs: list[SceneJob], plans: list[ScenePlan], settings: RendererSettings, cache: SceneCache,
            progress: Progress) -> list[RenderedScene]:
    total = len(plans)
    cached = total - len(jobs)
    finished = 0
    progress.report("Rendering", f"Rendering {len(jobs)} of {total} scenes ({cached} cached)",
                    cached / total, None, total)

    def stored(scene: RenderedScene) -> None:
        nonlocal finished
        finished += 1
        folder = plans[scene.index].folder
        (folder / "frames.txt").write_text(str(scene.frames))
        cache.put(plans[scene.index].key, folder)
        done = cached + finished
        progress.report("Rendering", f"Rendering scene {done}/{total}", done / total, done, total)

    return render_all(jobs, settings.parallel_scenes, stored)


def _assemble(plans: list[ScenePlan], settings: RendererSettings, work: Path) -> None:
    """video.mp4, its subtitles, thumbnail and duration.txt in ``work``, from the finished scenes."""
    work.mkdir(parents=True, exist_ok=True)
    fps = settings.preset.fps
    samples_per_frame = SAMPLE_RATE // fps
    pieces, spoken, offset = [], [], 0.0
    for plan in plans:
        plan.frames = int((plan.folder / "frames.txt").read_text())
        plan.speech_samples = wav_samples(plan.folder / "speech.wav")
        pieces.append((plan.folder / "speech.wav", round(LEAD_IN * SAMPLE_RATE), plan.frames * samples_per_frame))
        spoken.append(SpokenScene(plan.narration, offset + LEAD_IN, plan.speech_samples / SAMPLE_RATE))
        offset += plan.frames / fps
    track, video = work / "narration.wav", work / "video.mp4"
    write_track(track, pieces)
    assemble.join_and_mux([plan.folder / "scene.mp4" for plan in plans], track, video)
    cues = build_cues(spoken)
    vtt, srt, thumb = work / "video.vtt", work / "video.srt", work / "thumbnail.png"
    vtt.write_text(to_webvtt(cues))
    srt.write_text(to_srt(cues))
    shutil.copyfile(plans[0].folder / LAST_FRAME, thumb)  # the title card, fully drawn
    (work / "duration.txt").write_text(f"{offset:.6f}")
    track.unlink()


def _store(settings: RendererSettings, folder: Path, cached: bool) -> StoredOutput:
    video, vtt, srt, thumb = (folder / name for name in ("video.mp4", "video.vtt", "video.srt", "thumbnail.png"))
    duration = float((folder / "duration.txt").read_text())
    store, _ = open_store(settings.output, settings)
    prefix = output_prefix(settings)

    def key(name: str) -> str:
        return f"{prefix}/{name}" if prefix else name

    digests = {path.name: store.upload(path, key(path.name), verify=True) for path in (video, vtt, srt, thumb)}
    manifest = {
        "videojob": "manifest/v1",
        "durationSeconds": round(duration, 3),
        "files": {name: {"key": key(name), "sha256": digest, "sizeBytes": (video.parent / name).stat().st_size}
                  for name, digest in digests.items()},
    }
    store.put_bytes(key("manifest.json"), json.dumps(manifest, indent=2).encode(), "application/json")
    return StoredOutput(
        bucket=store.bucket or "", key=key("video.mp4"), url=store.url(key("video.mp4")),
        size_bytes=video.stat().st_size, sha256=digests["video.mp4"], duration_seconds=round(duration, 3),
        subtitles=Subtitles(vtt=key("video.vtt"), srt=key("video.srt")), thumbnail=key("thumbnail.png"),
        manifest=key("manifest.json"), cached=cached,
    )
