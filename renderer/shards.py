"""One share of a fanned-out render: narrate and draw some of the scenes into the shared cache.

The operator runs a fanned-out VideoJob as one Indexed Job of N Pods (see ``operator/fanout.py``
and the README's contract section). Every index takes its share of the storyboard's scenes
(:func:`share_of`), takes those already in the cache from it (a retried index redraws only what
it had not finished), narrates and draws the rest with the same stages as a single-Pod render,
and stores each scene in the scene cache as soon as it is drawn (and each speech as soon as it is
spoken: ``renderer/join_ahead.py``).

The last index (:func:`assembles`) then goes on in the same Pod: it waits for the other shares'
scenes to appear in the cache (their keys follow from the storyboard), fetching each as soon as
it is there, and joins, muxes and uploads them with the pipeline of a single-Pod render
(:func:`render_last_share`), so the video is the one a single Pod would have made of the same
storyboard, and no Pod is started to hand over to. The join is work the other Pods do not do,
so the last share starts with its weight (:data:`JOIN_WEIGHT`) and draws that much less; most
of it (the narration's encoding) runs while the scenes are still drawn. Every other index uploads no video and
writes a :class:`~videojob.contract.ShareDone` with its usage (:func:`render_share`).

Every Pod of the fan-out must draw from the same storyboard. A Markdown lecture or a
storyboard is parsed the same way everywhere; a storyboard a language model writes is not
written twice alike, so :func:`resolve_shared_job` has it written once: index 0 asks the model
and stores the storyboard beside the job's outputs (``storyboard.json``), and every other
Pod, the assembly Pod and a retried index 0 included, reads that one.
"""

from __future__ import annotations

import heapq
import json
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from videojob.contract import ShareDone, Usage
from videojob.limits import ACTIVE_DEADLINE_SECONDS_DEFAULT
from videojob.quality import QualityName
from videojob.renderer import spec_source
from videojob.renderer.assemble import NarrationTrack
from videojob.renderer.cache import SceneCache
from videojob.renderer.config import RenderConfig, output_prefix, resolve_config
from videojob.renderer.errors import InvalidSourceError, LLMUnavailableError, RenderError
from videojob.renderer.join_ahead import TrackFeeder, announce_speeches
from videojob.renderer.narration import Narrator, build_narrator
from videojob.renderer.pipeline import RenderReport, SceneDrawing, render_storyboard, scene_keys
from videojob.renderer.progress import Progress
from videojob.renderer.settings import RendererSettings
from videojob.renderer.sources import RenderJob, resolve_job
from videojob.renderer.stages import FinishedScene, finish_scenes
from videojob.renderer.storage import BlobStore, S3Access, open_store
from videojob.renderer.usage import ResourceMeter
from videojob.storyboard import Storyboard, parse_storyboard

SHARED_STORYBOARD = "storyboard.json"
POLL_SECONDS = 1.0
WAIT_MARGIN_SECONDS = 60.0  # beyond index 0's LLM calls at their longest: its Pod's start and the upload
# The join's CPU before the last scene lands (the narration's AAC, fetching the others' scenes) over the
# drawing's for the same video, by quality: the assembling share draws that much less. Estimates from
# benchmarks/fanout_lecture.py (113 s of video, 1-CPU Pods): the join took 2.5 CPU-s (quiet) to 3.4 (under
# load), about 0.7 of it after the last scene; drawing about 0.06 (low) and 0.15-0.18 (medium) CPU-s per
# second of video.
JOIN_WEIGHT: dict[QualityName, float] = {"low": 0.3, "medium": 0.16, "high": 0.08}
# How often the assembling index looks for the other shares' scenes: soon at first (a share ending
# together with it), then less often, never more than a quarter second behind the last scene's arrival.
FIRST_LOOK_SECONDS = 0.2
LONGEST_LOOK_SECONDS = 0.25


@dataclass(frozen=True)
class ShareReport:
    """What one index did, for its summary line and for tests."""

    index: int
    shares: int
    scenes: tuple[int, ...]  # 0-based positions in the storyboard
    rendered: int
    cached: int
    seconds: float


def share_of(weights: Sequence[int], index: int, shares: int, join_weight: int = 0) -> list[int]:
    """The scenes (0-based, in order) that index ``index`` of ``shares`` draws.

    ``weights`` estimate each scene's drawing time (its narration's length: a scene lasts as
    long as it is spoken); ``join_weight``, the assembling (last) share's join in the same
    units, is where that share starts. Longest first, each scene goes to the share with the
    least weight so far (ties to the lower index): the Pods finish close together. Pure and
    deterministic, so every Pod computes the same split.
    """
    if not 0 <= index < shares:
        raise ValueError(f"share index {index} is not in 0..{shares - 1}")
    loads = [(join_weight if assembles(share, shares) else 0, share) for share in range(shares)]
    heapq.heapify(loads)
    owner: dict[int, int] = {}
    for scene in sorted(range(len(weights)), key=lambda position: (-weights[position], position)):
        load, share = heapq.heappop(loads)
        owner[scene] = share
        heapq.heappush(loads, (load + max(1, weights[scene]), share))
    return [scene for scene in range(len(weights)) if owner[scene] == index]


def assembles(index: int, shares: int) -> bool:
    """Whether index ``index`` of ``shares`` joins the video once its own share is drawn: the last one."""
    return index == shares - 1


def my_share(storyboard: Storyboard, quality: QualityName, index: int, shares: int) -> list[int]:
    """:func:`share_of` the storyboard: its scenes weighed by their narration, the join by the video's
    length (the narration track's encoding is most of it) relative to drawing at ``quality``."""
    weights = [len(scene.narration) for scene in storyboard.scenes]
    return share_of(weights, index, shares, round(sum(weights) * JOIN_WEIGHT[quality]))


def _shared_cache(config: RenderConfig) -> SceneCache:
    # The shares hand their scenes over through the cache: a write that fails must fail the Pod.
    cache = SceneCache.open(config.cache, config.s3, best_effort=False)
    if cache.store is None:
        raise InvalidSourceError("a render shared by several Pods needs the scene cache; VIDEOJOB_CACHE is off")
    return cache


def _draw(
    storyboard: Storyboard,
    positions: Sequence[int],
    keys: Sequence[str],
    config: RenderConfig,
    narrator: Narrator,
    cache: SceneCache,
    work: Path,
    progress: Progress,
) -> list[FinishedScene]:
    """The scenes at ``positions``, from the cache where they are, else narrated and drawn into it."""
    part = storyboard.model_copy(update={"scenes": [storyboard.scenes[position] for position in positions]})
    # The stages report in the share's own numbers (scene 3/8), which is what the operator adds up.
    return finish_scenes(part, [keys[p] for p in positions], config, narrator, cache, work, progress)


def render_share(
    storyboard: Storyboard,
    config: RenderConfig,
    progress: Progress,
    index: int,
    shares: int,
    usage: Usage | None = None,
) -> tuple[ShareReport, ShareDone]:
    """Draw share ``index`` of ``shares`` of ``storyboard`` into the scene cache (see the module docstring);
    what it did, and the termination message with its usage (``usage``: the storyboard's, index 0's LLM tokens)."""
    started, meter = time.monotonic(), ResourceMeter.start()
    cache = _shared_cache(config)
    mine = my_share(storyboard, config.quality, index, shares)
    progress.storyboard_scenes = len(storyboard.scenes)
    label = f"Share {index + 1}/{shares}"
    narrator = build_narrator(config.voices, config.openai_speech)
    cached = 0
    if mine:
        with tempfile.TemporaryDirectory(prefix="videojob-share-", dir=config.work_dir) as scratch:
            keys = scene_keys(storyboard, config)
            announce_speeches(narrator, cache, storyboard, keys, mine)
            finished = _draw(storyboard, mine, keys, config, narrator, cache, Path(scratch), progress)
        cached = sum(scene.cached for scene in finished)
        progress.report("Rendering", f"{label}: {len(mine)} scenes in the cache", 1.0, len(mine), len(mine))
    else:
        progress.report("Rendering", f"{label}: no scenes to draw", 1.0)
    figures = {"tts_characters": narrator.characters, "scenes_rendered": len(mine) - cached, "scenes_cached": cached}
    usage = (usage or Usage()).model_copy(update=figures | meter.figures())
    report = ShareReport(index, shares, tuple(mine), len(mine) - cached, cached, time.monotonic() - started)
    return report, ShareDone(index=index, shares=shares, usage=usage)


def wait_bound_seconds(settings: RendererSettings) -> float:
    """How long the assembling index waits for the other shares at most: the VideoJob's deadline
    (spec.activeDeadlineSeconds; the Job controller stops the Pod then anyway), else the default's."""
    if settings.spec_file and settings.spec_file.is_file():
        return float(spec_source.read_spec(settings.spec_file).active_deadline_seconds)
    return float(ACTIVE_DEADLINE_SECONDS_DEFAULT)


def render_last_share(
    storyboard: Storyboard,
    config: RenderConfig,
    progress: Progress,
    shares: int,
    usage: Usage | None = None,
    wait_seconds: float = ACTIVE_DEADLINE_SECONDS_DEFAULT,
) -> RenderReport:
    """The assembling index: draw its share, gather the others' from the cache as they appear, then join,
    mux and upload as a single-Pod render does (see the module docstring). Its usage counts its own share;
    the operator adds the other Pods' (their :class:`~videojob.contract.ShareDone`)."""
    index = shares - 1
    _shared_cache(config)  # refused before anything is drawn when the cache is off
    mine = my_share(storyboard, config.quality, index, shares)
    progress.storyboard_scenes = len(storyboard.scenes)

    def draw(
        keys: list[str], narrator: Narrator, cache: SceneCache, work: Path
    ) -> tuple[list[FinishedScene], NarrationTrack]:
        finished: dict[int, FinishedScene] = {}
        track = NarrationTrack(work / "track")  # fed while the scenes are drawn: renderer/join_ahead.py
        looks = SceneCache.open(config.cache, config.s3)  # the feeder's own, from its thread
        try:
            with TrackFeeder(storyboard, keys, mine, config.preset.fps, looks, narrator, track, work / "fed"):
                if mine:
                    drawn = _draw(storyboard, mine, keys, config, narrator, cache, work / "own", progress)
                    finished.update(zip(mine, drawn, strict=True))
                others = [position for position in range(len(keys)) if position not in finished]
                _gather(
                    storyboard, others, keys, config, narrator, cache, work, progress, finished, wait_seconds, shares
                )
        except BaseException:
            track.discard()
            raise
        return [finished[position] for position in range(len(keys))], track

    return render_storyboard(storyboard, config, progress, usage, SceneDrawing(draw, len(mine)))


def _gather(
    storyboard: Storyboard,
    others: list[int],
    keys: Sequence[str],
    config: RenderConfig,
    narrator: Narrator,
    cache: SceneCache,
    work: Path,
    progress: Progress,
    finished: dict[int, FinishedScene],
    wait_seconds: float,
    shares: int,
) -> None:
    """Fetch the other shares' scenes into ``finished`` as each appears in the cache, looking again after a
    growing pause; a RenderError once ``wait_seconds`` have passed with scenes still missing."""
    deadline, pause, look = time.monotonic() + wait_seconds, FIRST_LOOK_SECONDS, 0
    mine = len(storyboard.scenes) - len(others)
    missing, reported = list(others), 0
    while missing:
        there = [position for position in missing if cache.scene(keys[position]) is not None]
        if there:
            fetched = _draw(storyboard, there, keys, config, narrator, cache, work / f"fetched-{look}", progress)
            finished.update(zip(there, fetched, strict=True))
            missing = [position for position in missing if position not in finished]
            pause = FIRST_LOOK_SECONDS
        if not missing:
            return
        if time.monotonic() > deadline:
            numbers = ", ".join(str(position + 1) for position in missing)
            raise RenderError(
                f"waited {wait_seconds:g}s (spec.activeDeadlineSeconds) for the other {shares - 1} share Pod(s), "
                f"and scene(s) {numbers} never reached the scene cache: read those Pods' logs"
            )
        if len(missing) != reported:  # one line per change, not one per look
            stage = f"Share {shares}/{shares}: waiting for {len(missing)} scenes from the other Pods"
            progress.report("Rendering", stage, 1.0, mine or None, mine or None)
            reported = len(missing)
        look += 1
        time.sleep(pause)
        pause = min(pause * 2, LONGEST_LOOK_SECONDS)


# --- one storyboard for every Pod ----------------------------------------------------------


def resolve_shared_job(source: Path | None, prompt: str | None, settings: RendererSettings) -> RenderJob:
    """:func:`~videojob.renderer.sources.resolve_job` for a Pod of a fan-out: a storyboard a language
    model writes is written once, by index 0, and read by every other Pod (see the module docstring)."""
    spec = (
        spec_source.read_spec(settings.spec_file) if source is None and prompt is None and settings.spec_file else None
    )
    if prompt is None and (spec is None or spec.source.prompt is None):
        return resolve_job(source, prompt, settings)  # parsed alike in every Pod
    store, key = _shared_location(settings)
    stored = store.get_bytes(key)
    if stored is None and settings.shard_index == 0:
        job = resolve_job(source, prompt, settings)
        store.put_bytes(key, job.storyboard.model_dump_json(by_alias=True).encode(), "application/json")
        return job
    deadline = time.monotonic() + settings.llm_timeout_seconds * (settings.llm_max_retries + 1) + WAIT_MARGIN_SECONDS
    while stored is None:
        if time.monotonic() > deadline:
            raise LLMUnavailableError(f"index 0 of the fan-out never stored the storyboard at {key}")
        time.sleep(POLL_SECONDS)
        stored = store.get_bytes(key)
    storyboard, config = resolve_config(settings, parse_storyboard(json.loads(stored)), spec)
    return RenderJob(storyboard, Usage(), config)  # the model's tokens are index 0's to count


def _shared_location(settings: RendererSettings) -> tuple[BlobStore, str]:
    s3 = S3Access(settings.s3_endpoint, settings.s3_access_key, settings.s3_secret_key.get_secret_value(),
                  settings.s3_region, settings.upload_attempts)  # fmt: skip
    store, _ = open_store(settings.output, s3)
    prefix = output_prefix(settings)
    return store, f"{prefix}/{SHARED_STORYBOARD}" if prefix else SHARED_STORYBOARD
