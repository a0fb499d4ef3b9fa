"""Every visual in the catalogue renders to a real scene with something on screen, in a landscape and a
portrait frame, and the contact sheet shows each scene's finished picture."""

import json
import subprocess
import sys
from typing import Any

import pytest
from PIL import Image

from videojob.quality import quality_preset
from videojob.renderer.cache import scene_key
from videojob.renderer.contact_sheet import CAPTION_HEIGHT, CELL_WIDTH, PADDING
from videojob.renderer.narration import choose_voices
from videojob.storyboard import THEMES, VISUAL_KINDS, parse_storyboard

DEFAULT_ENGLISH_CHAIN = ",".join(voice.spec for voice in choose_voices(None, "en"))  # no --voice given

VISUALS: list[dict[str, Any]] = [
    {"kind": "title_card", "title": "Waves", "subtitle": "What moves when a wave moves"},
    {"kind": "bullet_list", "heading": "Kinds", "bullets": ["Transverse", "Longitudinal"]},
    {"kind": "equation", "latex": r"v = f \lambda", "caption": "speed, frequency, wavelength"},
    {
        "kind": "comparison",
        "left_title": "Sound",
        "left_items": ["needs a medium"],
        "right_title": "Light",
        "right_items": ["crosses a vacuum"],
    },
    {"kind": "function_plot", "expression": "sin(2x) exp(-x^2/8)", "x_min": -6, "x_max": 6},
    {
        "kind": "diagram",
        "shapes": [{"id": "src", "label": "Source", "x": -3}, {"id": "ear", "shape": "square", "label": "Ear", "x": 3}],
        "arrows": [{"source": "src", "target": "ear", "label": "sound"}],
        # A move (the labels follow, placed again), a half turn and a pulse, played by the real Manim.
        "motions": [
            {"shape": "src", "action": "move", "x": -3, "y": 2},
            {"shape": "ear", "action": "rotate"},
            {"shape": "ear", "action": "pulse"},
        ],
    },
    {"kind": "timeline", "events": [{"when": "1678", "label": "Huygens"}, {"when": "1865", "label": "Maxwell"}]},
    {"kind": "code", "code": "def speed(f, wavelength):\n    return f * wavelength", "language": "python"},
    {"kind": "key_takeaways", "points": ["Waves carry energy", "Not matter"]},
]


def _pixels_unlike_background(video, background: str, tmp_path) -> float:
    frame = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-sseof",
            "-0.1",
            "-i",
            str(video),
            "-frames:v",
            "1",
            "-s",
            "160x90",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    bg = bytes.fromhex(background[1:])
    pixels = [frame[i : i + 3] for i in range(0, len(frame), 3)]
    differing = sum(1 for p in pixels if max(abs(a - b) for a, b in zip(p, bg, strict=False)) > 40)
    return differing / len(pixels)


PROBE = ("-of", "csv=p=0")


def _frame_size(video) -> tuple[int, int]:
    probe = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=width,height",
            *PROBE,
            str(video),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    width, height = (int(number) for number in probe.strip().split(","))
    return width, height


def _colour_distance(colour, other) -> int:
    return max(abs(a - b) for a, b in zip(colour, other, strict=False))


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_each_template_draws_its_scene(orientation, render_cli, tmp_path):
    storyboard = {
        "title": "Waves",
        "theme": "physics",
        "scenes": [{"narration": "Look.", "visual": visual} for visual in VISUALS],
    }
    assert [v["kind"] for v in VISUALS] == list(VISUAL_KINDS)
    source = tmp_path / "waves.json"
    source.write_text(json.dumps(storyboard))
    run = render_cli(
        str(source),
        *("--quality", "low", "--orientation", orientation, "--contact-sheet"),
        *("--cache", f"file://{tmp_path}/cache", "-o", f"file://{tmp_path}/out"),
    )
    assert run.returncode == 0, run.stderr
    assert run.termination.usage.scenes_rendered == len(VISUALS)

    # The picture is upright for portrait (480x854 at low), not a landscape frame.
    preset = quality_preset("low").oriented(orientation)
    assert _frame_size(tmp_path / "out" / "video.mp4") == (preset.width, preset.height)
    assert (preset.width > preset.height) == (orientation == "landscape")
    board = parse_storyboard(storyboard)
    picture = "low" if orientation == "landscape" else "low/portrait"
    for scene in board.scenes:
        key = scene_key(
            scene.visual.model_dump(mode="json"), scene.narration, "physics", picture, DEFAULT_ENGLISH_CHAIN
        )
        video = tmp_path / "cache" / "scenes" / key / "scene.mp4"
        share = _pixels_unlike_background(video, THEMES["physics"].background, tmp_path)
        assert share > 0.003, f"{scene.visual.kind} ({orientation}) left the frame (nearly) empty: {share:.4f}"

    # The contact sheet: one cell a scene, in order, each holding a finished picture of the theme.
    sheet = Image.open(tmp_path / "out" / "contact-sheet.png").convert("RGB")
    cell_width = CELL_WIDTH[orientation]
    cell_height = round(preset.height * cell_width / preset.width)
    columns = (sheet.width - PADDING) // (cell_width + PADDING)
    rows = (sheet.height - PADDING) // (cell_height + CAPTION_HEIGHT + PADDING)
    assert columns * rows >= len(VISUALS) > columns * (rows - 1), (columns, rows)
    background = tuple(bytes.fromhex(THEMES["physics"].background[1:]))
    for index, visual in enumerate(VISUALS):
        x = PADDING + (index % columns) * (cell_width + PADDING)
        y = PADDING + (index // columns) * (cell_height + CAPTION_HEIGHT + PADDING)
        colours = sheet.crop((x, y, x + cell_width, y + cell_height)).getcolors(cell_width * cell_height) or []
        themed = sum(count for count, colour in colours if _colour_distance(colour, background) < 12)
        drawn = sum(count for count, colour in colours if _colour_distance(colour, background) > 40)
        assert themed > 0.5 * cell_width * cell_height, f"cell {index + 1} is not a picture of the physics theme"
        assert drawn > 0.002 * cell_width * cell_height, f"cell {index + 1} ({visual['kind']}) is empty"


def test_the_held_frame_speed_up_applies_to_the_pinned_manim():
    # If Manim's encoder changes shape the patch steps aside (renders stay correct, only slower):
    # this test says when that happens, so the speed-up is not lost silently.
    code = "from videojob.renderer import manim_speedups; print(manim_speedups.install())"
    out = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True"
