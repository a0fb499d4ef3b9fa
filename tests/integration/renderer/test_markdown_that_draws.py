"""A lecture with a table and a diagram block, rendered by the real CLI (Manim, espeak-ng, ffmpeg):
the renderer drew a comparison and a right triangle, not the table's text or a code listing.

The scene cache holds one entry per scene the renderer drew, keyed by that scene's visual and
narration, so its keys say which storyboard the renderer used; tesseract then reads the
comparison's column titles and the triangle's side labels off the scenes' finished frames.
"""

from __future__ import annotations

from pathlib import Path

from videojob.contract import EXIT_BAD_INPUT, EXIT_SUCCESS, Failure
from videojob.renderer.pipeline import scene_keys
from videojob.renderer.settings import RendererSettings
from videojob.renderer.sources import resolve_job

from .test_scripts_read_back_by_ocr import normalised, ocr

LECTURE = """\
# Light and triangles

## Two pictures of light

Light behaves as particles in some experiments and as waves in others.

| Particle | Wave |
|----------|------|
| Photons | Interference |
| Photoelectric effect | Diffraction |

## A right triangle

Its shorter sides are three and four units long; the longest is five.

```diagram
triangle T a=3 b=4: The 3-4-5 triangle
```
"""


def test_a_table_and_a_diagram_block_are_drawn_as_a_comparison_and_a_right_triangle(render_cli, tmp_path: Path):
    lecture = tmp_path / "lecture.md"
    lecture.write_text(LECTURE)
    cache = tmp_path / "cache"
    run = render_cli(
        str(lecture), "--quality", "low", "--voice", "espeak", "--cache", f"file://{cache}",
        "-o", f"file://{tmp_path / 'out'}", timeout=300,
    )  # fmt: skip
    assert run.returncode == EXIT_SUCCESS, run.stderr

    settings = RendererSettings(quality="low", voice="espeak", cache=f"file://{cache}")  # as the CLI was given
    job = resolve_job(lecture, None, settings)  # the storyboard and configuration the CLI resolved
    assert [scene.visual.kind for scene in job.storyboard.scenes] == ["title_card", "comparison", "diagram"]
    keys = scene_keys(job.storyboard, job.config)
    assert {path.name for path in (cache / "scenes").iterdir()} == set(keys)  # the scenes it drew: these

    comparison = normalised(ocr(cache / "scenes" / keys[1] / "last_frame.png", "eng"))
    assert "particle" in comparison and "wave" in comparison and "photons" in comparison
    triangle = normalised(ocr(cache / "scenes" / keys[2] / "last_frame.png", "eng"))
    assert "a3" in triangle and "b4" in triangle and "c5" in triangle, triangle


def test_a_bad_drawing_block_stops_the_cli_as_bad_input_naming_the_line(render_cli, tmp_path: Path):
    lecture = tmp_path / "lecture.md"
    lecture.write_text("# Orbits\n\n## Pull\n\n```diagram\nsun: The Sun\nsun -> earth: gravity\n```\n")
    run = render_cli(str(lecture), "--cache", "off", "-o", f"file://{tmp_path / 'out'}")
    assert run.returncode == EXIT_BAD_INPUT, run.stderr  # 65: the Job fails at once, never retried
    assert "line 7: no shape is called 'earth'" in run.stderr
    assert isinstance(run.termination, Failure) and run.termination.reason == "InvalidStoryboard"
    assert "line 7" in run.termination.message
    assert not (tmp_path / "out").exists()
