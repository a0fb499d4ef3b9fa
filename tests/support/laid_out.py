"""Laying a template out without rendering it, and the checks every laid-out picture must pass: what the
layout property test (tests/unit/renderer/test_layouts_fit_the_frame.py) and the diagram motion tests share.

The templates are laid out (Manim mobjects built and placed; equations typeset by the real TeX), never
rendered. A diagram's motions are played with each ``play`` jumped to its end (:func:`play_motions`).
"""

from __future__ import annotations

import contextlib
import itertools
import warnings
from typing import Any

import numpy as np
from pydantic import TypeAdapter

from videojob.diagram_geometry import ON_TOP_OVERLAP
from videojob.renderer import layout
from videojob.renderer.layout import Box, Layout
from videojob.renderer.timing import plan_scene
from videojob.storyboard import THEMES
from videojob.visuals import Visual

with warnings.catch_warnings():  # Manim's audio dependency imports audioop, deprecated in Python 3.11
    warnings.simplefilter("ignore", DeprecationWarning)
    from manim import Circle, Code, Line, Rectangle, Square, Text, tempconfig
    from manim.animation.animation import prepare_animation

    from videojob.renderer.scenes import TEMPLATES
    from videojob.renderer.scenes.equations import EquationLine

FRAMES = {"landscape": (1280, 720), "portrait": (720, 1280)}


def lay_out(visual: dict, orientation: str, tmp_path) -> tuple[Layout, list]:
    scene = lay_out_scene(visual, orientation, tmp_path)
    return scene.layout, scene.laid_out


def lay_out_scene(visual: dict, orientation: str, tmp_path):
    width, height = FRAMES[orientation]
    options = {
        "pixel_width": width,
        "pixel_height": height,
        "frame_width": layout.FRAME_HEIGHT * width / height,
        "media_dir": str(tmp_path),
        "disable_caching": True,
        "write_to_movie": False,
        "verbosity": "ERROR",
    }
    parsed = TypeAdapter(Visual).validate_python(visual)
    with tempconfig(options):
        scene = TEMPLATES[parsed.kind](parsed, "Look at this.", THEMES["default"], plan_scene(4.0, 30))
        scene.laid_out = scene.build()  # type: ignore[attr-defined]  # what the checks read, beside the scene
        return scene


def check_fits(visual: dict, orientation: str, tmp_path, scene=None) -> None:
    scene = scene or lay_out_scene(visual, orientation, tmp_path)
    check_pages(scene, f"{visual['kind']} ({orientation})")
    if visual["kind"] == "diagram" and visual.get("motions"):
        play_motions(scene, lambda when: check_pages(scene, f"diagram ({orientation}) {when}"))


def check_pages(scene, what: str) -> None:
    frame, pages = scene.layout, scene.laid_out
    if scene.visual.kind == "diagram":
        check_labels_keep_to_their_shapes(scene, what)
        check_no_shape_hides_another(scene, what)
    assert pages, "nothing laid out"
    for number, page in enumerate(pages, start=1):
        where = f"{what}, page {number} of {len(pages)}"
        lines: list[Any] = []
        for part in page.mobjects:
            assert frame.inside(Box.of(part), slack=0.02), (
                f"{where}: {type(part).__name__} leaves the safe area: {Box.of(part)}"
            )
            lines += [m for m in part.get_family() if isinstance(m, Text) and m.submobjects]
            lines += [m for m in part.get_family() if isinstance(m, EquationLine)]
        for line in lines:
            smallest = layout.SMALLEST_MATH if isinstance(line, EquationLine) else layout.SMALLEST
            assert line.font_size >= smallest - 0.5, f"{where}: {shown(line)} at {line.font_size:.1f} pt"
        boxes = [(line, Box.of(line)) for line in lines]  # measured once: a crowded page has hundreds of pairs
        # A listing's rows and its gutter's labels (Manim's Code draws them as rows of glyphs, not Text).
        for listing in [part for part in page.mobjects if isinstance(part, Code)]:
            numbers = getattr(listing, "line_numbers", None)
            assert numbers is None or len(numbers) == len(listing.code_lines), f"{where}: a row was lost"
            rows = [row for row in listing.code_lines if row.submobjects]
            labels = [row for row in getattr(listing, "line_numbers", []) if not isinstance(row, Text)]
            boxes += [(row, Box.of(row)) for row in [*rows, *labels]]
        for (one, box), (other, other_box) in itertools.combinations(boxes, 2):
            assert not box.overlaps(other_box, slack=0.02), f"{where}: {shown(one)} overlaps {shown(other)}"
        dividers = [part for part in page.mobjects if isinstance(part, Line)] if what.startswith("comparison") else []
        for divider in dividers:
            crossed = [shown(line) for line, box in boxes if box.overlaps(Box.of(divider), slack=0.02)]
            assert not crossed, f"{where}: the divider crosses {crossed}"


def play_motions(scene, check) -> None:
    """The diagram's animations played as Manim plays them, but each ``play`` jumped to its end with no
    frame drawn (the test stands in for Manim's frame loop here; the real render of a diagram with motions
    is tests/integration/renderer/test_every_template_renders.py): every animation of one ``play``
    finishes, then every mobject's updaters run, as after a played frame. ``check(where)`` reads the
    picture at the end of each motion (the plays before them draw the still picture, checked as laid out;
    the pages of keys after them do not move)."""
    first_motion = 1 + bool(scene.visual.arrows)  # the shapes grow, then the arrows, then one play per motion
    played = 0

    def jump(*animations: Any, run_time: float = 0.6) -> None:
        nonlocal played
        for animation in animations:
            animation = prepare_animation(animation)
            animation.begin()
            animation.finish()
        for mobject in [*scene.nodes.values(), *scene.arrows, *scene.arrow_labels]:
            mobject.update(0)
        number = played - first_motion
        if 0 <= number < len(scene.visual.motions):
            motion = scene.visual.motions[number]
            check(f"at the end of motions.{number} ({motion.action} {motion.shape})")
        played += 1
        if number == len(scene.visual.motions) - 1:
            raise _MotionsPlayed  # what follows (pages of keys) does not move: no need to copy it all

    # compose() starts by laying the picture out: the scene holds that layout already (build is
    # deterministic), so it is handed back rather than built a second time.
    scene.animate, scene.hold_until, scene.build = jump, lambda _moment: None, lambda: scene.laid_out
    with contextlib.suppress(_MotionsPlayed):
        scene.compose()


class _MotionsPlayed(Exception):
    """The last motion has been played and checked."""


def check_no_shape_hides_another(scene, where: str) -> None:
    """No two shapes on one spot (about the same place and size), wherever the motions took them."""
    boxes = {key: Box.of(node[0]) for key, node in scene.nodes.items()}
    for (one, a), (other, b) in itertools.combinations(boxes.items(), 2):
        across = min(a.right, b.right) - max(a.left, b.left)
        up = min(a.top, b.top) - max(a.bottom, b.bottom)
        shared = max(0.0, across) * max(0.0, up)
        union = (a.right - a.left) * (a.top - a.bottom) + (b.right - b.left) * (b.top - b.bottom) - shared
        assert shared / union < ON_TOP_OVERLAP, f"{where}: {other!r} is on top of {one!r}"


def check_labels_keep_to_their_shapes(scene, where: str) -> None:
    """A shape's label is wholly inside its outline or wholly outside its box, never across its edge."""
    for node in scene.nodes.values():
        if len(node.submobjects) < 2:
            continue
        shape, label = node.submobjects[0], node.submobjects[-1]
        outline, box = Box.of(shape), Box.of(label)
        if not outline.overlaps(box):
            continue
        centre, radius = shape.get_center(), shape.width / 2
        corners = [(x, y) for x in (box.left, box.right) for y in (box.bottom, box.top)]
        if isinstance(shape, Circle):
            inside = all(np.hypot(x - centre[0], y - centre[1]) <= radius + 0.01 for x, y in corners)
        else:
            inside = isinstance(shape, (Square, Rectangle)) and outline.left <= box.left and box.right <= outline.right
            inside = inside and outline.bottom <= box.bottom and box.top <= outline.top
        assert inside, (
            f"{where}: the label {shown(label.submobjects[0])} crosses the edge of its {type(shape).__name__}"
        )


def shown(line) -> str:
    if isinstance(line, Text):
        return repr(line.text)
    return repr(getattr(line, "latex", f"a row of {len(line.submobjects)} glyphs"))
