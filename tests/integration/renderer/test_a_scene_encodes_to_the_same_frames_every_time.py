"""The same drawn frames always encode to the same decoded frames: libx264's threads never race.

A fan-out's video joins scenes drawn by several Pods and promises the decoded frames a single Pod
makes. Drawing is repeatable (the pixels Manim hands the encoder were the same in every fresh process
tried); the encoder was not: with PyAV's default slice threads, x264's two threads raced, and the
same animation frames encoded again came out 1-4 levels apart in tens of pixels, in some encodes
only (measured on a busy 2-core machine: 4 in 100 one at a time, 158 in 500 four at a time; this
test failed 7 times in 7 with them, 3 to 36 of its 48 encodes apart), so a scene drawn twice was
two pictures. Frame threads are deterministic.

Real Manim draws one animated scene (the fan-out e2e's fourth) once, with render_scene; the frames of
its animations, exactly as Manim handed them to its segment encoders, are encoded again many
times through Manim's own encoder with the settings that render resolved (so with whatever
manim_render.ENCODER_OPTIONS says), several encodes at once as a busy node runs them, and every
encode is decoded by FFmpeg (through PyAV) and compared pixel for pixel.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import pytest

from videojob.renderer import manim_speedups
from videojob.renderer.manim_render import SceneJob, render_scene
from videojob.renderer.timing import plan_scene

FPS = 15
ENCODES = 48
AT_ONCE = 4  # encodes running together, as scene workers and other Pods' encoders do on a busy node
TWO_TIDES = {"kind": "bullet_list", "heading": "Two tides a day", "bullets": ["One bulge", "Then the other"]}
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Manim's own, while it draws


@dataclass
class Segment:
    """One animation's frames as Manim handed them to its encoder, and the encoder settings it resolved."""

    spec: Any
    frames: list[tuple[Any, int]] = field(default_factory=list)


@pytest.fixture(scope="module")
def animations(tmp_path_factory) -> list[Segment]:
    """Draw the scene with the renderer and keep its animated segments (every frame shown once)."""
    from manim.scene.scene_file_writer import SceneFileWriter  # imported here: Manim warns as it loads

    segments: dict[int, Segment] = {}
    original = SceneFileWriter.write_frame

    def kept(writer: Any, pixels: Any, *, repeat: int = 1) -> None:
        job = writer._current_encode_job
        if job is not None:
            segment = segments.setdefault(job.animation_index, Segment(writer.video_encoder))
            segment.frames.append((pixels.copy(), repeat))
        original(writer, pixels, repeat=repeat)

    timing = plan_scene(2.9443125, FPS)  # the e2e's espeak narration of this scene
    target = tmp_path_factory.mktemp("drawn") / "scene.mp4"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SceneFileWriter, "write_frame", kept)
        render_scene(SceneJob(3, TWO_TIDES, "The Earth turns under both bulges once a day.", "physics", timing,
                              854, 480, target))  # fmt: skip
    animated = [s for s in segments.values() if len(s.frames) > 1 and all(r == 1 for _, r in s.frames)]
    # the heading's, then each bullet's: the first bullet fades in across the frame's middle rows
    assert len(animated) >= 2, f"the scene drew too few animations: {[len(s.frames) for s in segments.values()]}"
    return animated


def _encoded_and_decoded(segments: list[Segment], folder: Path) -> tuple[str, ...]:
    """``segments`` encoded as render_scene's Manim encodes them, then each decoded frame's MD5."""
    from manim.scene.video_segment_encoder import VideoSegmentEncoder

    decoded: list[str] = []
    folder.mkdir()
    for number, segment in enumerate(segments):
        encoder = VideoSegmentEncoder(target=folder / f"{number}.mp4", spec=segment.spec)
        for pixels, repeat in segment.frames:
            encoder.write_frame(pixels, repeat=repeat)
        encoder.finish()
        with av.open(str(encoder.target)) as video:
            decoded += (hashlib.md5(frame.to_ndarray().tobytes()).hexdigest() for frame in video.decode(video=0))
    return tuple(decoded)


def test_the_animations_of_a_scene_encoded_again_and_again_decode_to_the_same_frames(animations, tmp_path):
    manim_speedups.install()  # as render_scene has
    with ThreadPoolExecutor(AT_ONCE) as pool:
        encodes = list(pool.map(lambda n: _encoded_and_decoded(animations, tmp_path / str(n)), range(ENCODES)))
    assert len(encodes[0]) == sum(len(segment.frames) for segment in animations)
    apart = [n for n, frames in enumerate(encodes) if frames != encodes[0]]
    options = dict(animations[0].spec.options)
    assert apart == [], f"{len(apart)} of {ENCODES} encodes of the same frames decode differently (options {options})"
