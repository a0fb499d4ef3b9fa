"""One share of a fanned-out render: narrate and draw some of the scenes into the shared cache.

The operator runs a fanned-out VideoJob as an Indexed Job of N Pods, then one assembly Pod
(see ``operator/fanout.py`` and the README's contract section). Each index calls
:func:`render_share`: it takes its share of the storyboard's scenes (:func:`share_of`),
takes those already in the cache from it (a retried index redraws only what it had not finished),
narrates and draws the rest with the same stages as a single-Pod render, and stores each
scene in the scene cache as soon as it is drawn. It uploads no video: the assembly Pod is
an ordinary render that finds every scene cached, so the video it joins is the one a
single Pod would have made of the same storyboard.

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

from videojob.contract import Usage
from videojob.renderer import spec_source
from videojob.renderer.cache import SceneCache
from videojob.renderer.config import RenderConfig, output_prefix, resolve_config
from videojob.renderer.errors import InvalidSourceError, LLMUnavailableError
from videojob.renderer.narration import build_narrator
from videojob.renderer.pipeline import scene_keys
from videojob.renderer.progress import Progress
from videojob.renderer.settings import RendererSettings
from videojob.renderer.sources import RenderJob, resolve_job
from videojob.renderer.stages import finish_scenes
from videojob.renderer.storage import BlobStore, S3Access, open_store
from videojob.storyboard import Storyboard, parse_storyboard

SHARED_STORYBOARD = "storyboard.json"
POLL_SECONDS = 1.0
WAIT_MARGIN_SECONDS = 60.0  # beyond index 0's LLM calls at their longest: its Pod's start and the upload


@dataclass(frozen=True)
class ShareReport:
    """What one index did, for its summary line and for tests."""

    index: int
    shares: int
    scenes: tuple[int, ...]  # 0-based positions in the storyboard
    rendered: int
    cached: int
    seconds: float


def share_of(weights: Sequence[int], index: int, shares: int) -> list[int]:
    """The scenes (0-based, in order) that index ``index`` of ``shares`` draws.

    ``weights`` estimate each scene's drawing time (its narration's length: a scene lasts as
    long as it is spoken). Longest first, each scene goes to the share with the least weight
    so far (ties to the lower index): the Pods finish close together. Pure and deterministic,
    so every Pod computes the same split.
    """
    if not 0 <= index < shares:
        raise ValueError(f"share index {index} is not in 0..{shares - 1}")
    loads = [(0, share) for share in range(shares)]
    owner: dict[int, int] = {}
    for scene in sorted(range(len(weights)), key=lambda position: (-weights[position], position)):
        load, share = heapq.heappop(loads)
        owner[scene] = share
        heapq.heappush(loads, (load + max(1, weights[scene]), share))
    return [scene for scene in range(len(weights)) if owner[scene] == index]


def render_share(
    storyboard: Storyboard, config: RenderConfig, progress: Progress, index: int, shares: int
) -> ShareReport:
    """Draw share ``index`` of ``shares`` of ``storyboard`` into the scene cache (see the module docstring)."""
    started = time.monotonic()
    cache = SceneCache.open(config.cache, config.s3)
    if cache.store is None:
        raise InvalidSourceError("a render shared by several Pods needs the scene cache; VIDEOJOB_CACHE is off")
    total = len(storyboard.scenes)
    mine = share_of([len(scene.narration) for scene in storyboard.scenes], index, shares)
    progress.storyboard_scenes = total
    label = f"Share {index + 1}/{shares}"
    if not mine:
        progress.report("Rendering", f"{label}: no scenes to draw", 1.0)
        return ShareReport(index, shares, (), 0, 0, time.monotonic() - started)
    narrator = build_narrator(config.voices, config.openai_speech)
    keys = scene_keys(storyboard, config)
    share = storyboard.model_copy(update={"scenes": [storyboard.scenes[position] for position in mine]})
    with tempfile.TemporaryDirectory(prefix="videojob-share-", dir=config.work_dir) as scratch:
        # The stages report in the share's own numbers (scene 3/8), which is what the operator adds up.
        finished = finish_scenes(share, [keys[p] for p in mine], config, narrator, cache, Path(scratch), progress)
    cached = sum(scene.cached for scene in finished)
    progress.report("Rendering", f"{label}: {len(mine)} scenes in the cache", 1.0, len(mine), len(mine))
    return ShareReport(index, shares, tuple(mine), len(mine) - cached, cached, time.monotonic() - started)


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
