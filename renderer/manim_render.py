"""Render scenes with Manim (Cairo), one process per CPU, with TeX locked down (tex_sandbox).

Manim keeps its configuration in a process-wide global, so scenes render in
worker processes (forked, so Manim is imported once) rather than threads. Each
worker renders one scene at a time with caching off (every render here is
one-shot: the content-addressed scene cache one level up is what saves work),
libx264's ``veryfast`` preset and two in-flight encoders.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from videojob.renderer.errors import LatexRejectedError, RenderError
from videojob.renderer.layout import FRAME_HEIGHT
from videojob.renderer.tex_sandbox import tex_complaint, tex_confined_to, tex_failed
from videojob.renderer.timing import SceneTiming
from videojob.storyboard import THEMES, Visual

LAST_FRAME = "last_frame.png"
# libx264's threads, the same on every machine: left to itself it starts one and a half per CPU it
# may run on, and the frames it encodes differ with that count (measured: one scene from the same
# worker, pinned to 1 CPU or free on 2, differed in 55 of 60 decoded frames), so a scene drawn in
# another Pod, on another node or beside another worker would not be the same picture.
ENCODER_THREADS = 2
# The threads each encode whole frames. PyAV asks for slice threads unless told, and x264's two
# slice threads race: the same pixels of a 7-frame animation (a bullet fading in across the
# frame's middle, where the slices meet) encoded again decoded differently, by 1-4 levels in tens
# of pixels, in 4 of 100 encodes one at a time and 158 of 500 four at a time (a busy 2-core
# machine). With frame threads 0 of 1,000 differed; they cost the same CPU at 480p and 4-6% more
# encoding CPU at 720p (0.57 against 0.55 s for a 4-second scene).
ENCODER_OPTIONS = {"preset": "veryfast", "threads": str(ENCODER_THREADS), "thread_type": "frame"}


@dataclass(frozen=True)
class SceneJob:
    """Everything a worker needs to draw one scene; plain data, so it pickles."""

    index: int
    visual: dict[str, Any]
    narration: str
    theme: str
    timing: SceneTiming
    width: int
    height: int
    target: Path  # the silent MP4; the last frame is saved beside it as LAST_FRAME


@dataclass(frozen=True)
class RenderedScene:
    """What a worker drew: the silent video, its finished picture, and its length in frames."""

    index: int
    video: Path
    last_frame: Path
    frames: int  # what fixes the scene's real length


def render_scene(job: SceneJob) -> RenderedScene:
    """Draw one scene to ``job.target`` (silent H.264 MP4); runs inside a worker process."""
    import av
    from manim import tempconfig
    from PIL import Image

    from videojob.renderer import manim_speedups
    from videojob.renderer.scenes import TEMPLATES
    from videojob.renderer.scenes.equations import EquationTooWideError

    manim_speedups.install()

    visual = TypeAdapter(Visual).validate_python(job.visual)
    with tempfile.TemporaryDirectory(prefix=f"scene-{job.index}-") as scratch, tex_confined_to(Path(scratch)):
        options = {
            "pixel_width": job.width,
            "pixel_height": job.height,
            "frame_width": FRAME_HEIGHT * job.width / job.height,  # Manim keeps 14.2 units unless told
            "frame_rate": job.timing.fps,
            "media_dir": scratch,
            "disable_caching": True,
            "progress_bar": "none",
            "verbosity": "ERROR",
            "video_encoder_options": dict(ENCODER_OPTIONS),
            "max_inflight_encoders": 2,
            "output_file": "scene",
        }
        with tempconfig(options), _output_to(Path(scratch) / "output.txt") as log:
            try:
                scene = TEMPLATES[visual.kind](visual, job.narration, THEMES[job.theme], job.timing)
                scene.render()
            except EquationTooWideError as error:  # bad input: no retry draws it any narrower
                raise LatexRejectedError(f"scenes.{job.index}.visual.latex (scene {job.index + 1}): {error}") from None
            except Exception as error:
                detail = log.read_text(errors="replace").strip()[-400:]
                if visual.kind == "equation" and tex_failed(error, Path(scratch)):
                    raise LatexRejectedError(
                        f'scene {job.index + 1}: TeX could not typeset "{visual.latex}": {tex_complaint(Path(scratch))}'
                    ) from None
                raise RenderError(f"scene {job.index + 1} ({visual.kind}) failed: {error}. {detail}") from None
            movie = Path(scene.renderer.file_writer.movie_file_path)
            last_frame = scene.renderer.get_frame()
        job.target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(movie), job.target)
    # The finished picture, for the video's thumbnail, saved here rather than decoded later by ffmpeg.
    picture = job.target.with_name(LAST_FRAME)
    Image.fromarray(last_frame).convert("RGB").save(picture)
    with av.open(str(job.target)) as container:
        frames = container.streams.video[0].frames
    if frames <= 0:
        raise RenderError(f"scene {job.index + 1} produced no video frames")
    return RenderedScene(job.index, job.target, picture, frames)


@contextlib.contextmanager
def _output_to(path: Path) -> Iterator[Path]:
    """Send this process's stdout and stderr (TeX, Manim, PyAV chatter) to ``path`` while drawing:
    stdout carries the operator's progress events and must hold nothing else."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "wb") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
    try:
        yield path
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, original in zip((1, 2), saved, strict=True):
            os.dup2(original, fd)
            os.close(original)


def preload() -> None:
    """Import Manim and the templates now (before forking), so every worker inherits them."""
    import manim  # noqa: F401 - imported once before forking, inherited by every worker

    import videojob.renderer.scenes  # noqa: F401
