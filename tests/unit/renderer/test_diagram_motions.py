"""A diagram's motions end in a picture as clear as the drawn one: a moved shape takes its label along and
places it again clear of the labels that stay, a half-turned right triangle keeps its side labels upright,
and a move the author made onto another shape is refused, naming the motion (in Markdown, its line).

The motions are played with each animation jumped to its end, no frame drawn (support/laid_out.py stands
in for Manim's frame loop); the real render of a diagram with motions is in
tests/integration/renderer/test_every_template_renders.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from support.laid_out import FRAMES, check_pages, lay_out_scene, play_motions
from videojob.markdown_lecture import markdown_to_storyboard
from videojob.renderer.layout import Box
from videojob.storyboard import InvalidStoryboardError, parse_storyboard


def ends_of_motions(visual: dict, orientation: str, tmp_path) -> list:
    """The scene, and after each ``play`` a copy of every label's box and centre, keyed by shape id."""
    scene = lay_out_scene(visual, orientation, tmp_path)
    states: list[dict] = []

    def keep(where: str) -> None:
        check_pages(scene, f"{orientation} {where}")
        states.append({key: (Box.of(node[-1]), node[0].get_center().copy()) for key, node in scene.nodes.items()})

    play_motions(scene, keep)
    return [scene, states]


@pytest.mark.parametrize("orientation", sorted(FRAMES))
def test_a_shape_moved_under_another_takes_its_label_to_a_free_place_beside_it(orientation, tmp_path):
    # Two dots: their labels go below them. Moving the sun just above the planet would leave the sun's
    # label (kept at its old offset) on the planet's: it is placed again, by the sun, clear of it.
    visual = {
        "kind": "diagram",
        "shapes": [
            {"id": "sun", "shape": "dot", "label": "Sun", "x": -4.0},
            {"id": "planet", "shape": "dot", "label": "Planet", "x": 4.0},
        ],
        "motions": [{"shape": "sun", "action": "move", "x": 4.0, "y": 0.25}],
    }
    _, states = ends_of_motions(visual, orientation, tmp_path)
    sun_label, sun = states[-1]["sun"]
    planet_label, _ = states[-1]["planet"]
    assert not sun_label.overlaps(planet_label)
    centre = ((sun_label.left + sun_label.right) / 2, (sun_label.bottom + sun_label.top) / 2)
    assert np.hypot(centre[0] - sun[0], centre[1] - sun[1]) < 1.5, "the label stayed behind, away from its dot"


@pytest.mark.parametrize("orientation", sorted(FRAMES))
def test_an_arrows_label_moves_with_its_arrow_clear_of_the_other_labels(orientation, tmp_path):
    visual = {
        "kind": "diagram",
        "shapes": [
            {"id": "a", "shape": "square", "label": "Source", "x": -5.0, "y": 2.0},
            {"id": "b", "shape": "square", "label": "Sink", "x": 5.0, "y": 2.0},
            {"id": "c", "shape": "circle", "label": "Store", "x": 0.0, "y": -2.5},
        ],
        "arrows": [{"source": "a", "target": "b", "label": "flow of heat"}],
        "motions": [{"shape": "b", "action": "move", "x": 0.0, "y": -1.0}, {"shape": "a", "action": "pulse"}],
    }
    scene, _ = ends_of_motions(visual, orientation, tmp_path)  # check_pages asserted every end state
    [label] = scene.arrow_labels
    middle = scene.arrows[0].get_center()
    assert np.hypot(*(label.get_center() - middle)[:2]) < 2.0, "the arrow's label was left where the arrow was"


def test_a_right_triangle_turned_half_round_keeps_its_side_labels_upright(tmp_path):
    visual = {
        "kind": "diagram",
        "shapes": [{"id": "t", "shape": "right_triangle", "legs": [3, 4], "size": 3.0, "label": "Pythagoras"}],
        "motions": [{"shape": "t", "action": "rotate"}],
    }
    scene, _ = ends_of_motions(visual, "landscape", tmp_path)
    triangle = scene.nodes["t"][0]
    for side in triangle.submobjects[2:]:
        glyphs = side.submobjects[0].submobjects  # the first line of the label, glyph by glyph
        assert glyphs[0].get_center()[0] < glyphs[-1].get_center()[0], "a side label was turned upside down"


def diagram_storyboard(visual: dict) -> dict:
    return {"title": "Orbits", "scenes": [{"narration": "Look.", "visual": {"kind": "diagram", **visual}}]}


def test_a_move_onto_another_shape_is_refused_naming_the_motion():
    visual = {
        "shapes": [{"id": "sun", "x": -3.0}, {"id": "earth", "x": 3.0}],
        "motions": [{"shape": "earth", "action": "pulse"}, {"shape": "earth", "x": -2.9, "y": 0.0}],
    }
    with pytest.raises(
        InvalidStoryboardError,
        match=r"scenes\.0\.visual\.diagram\.motions\.1: moving 'earth' to \(-2\.9, 0\) puts it on top of shapes\.0 "
        r"\('sun'\): same place, same size: move 'earth' to another x and y",
    ):
        parse_storyboard(diagram_storyboard(visual))


def test_a_move_is_judged_where_the_earlier_motions_left_the_other_shapes():
    # The sun moved away first: the earth may take its old place, but not the sun's new one.
    visual = {
        "shapes": [{"id": "sun", "x": -3.0}, {"id": "earth", "x": 3.0}],
        "motions": [{"shape": "sun", "x": 0.0, "y": 2.0}, {"shape": "earth", "x": -3.0, "y": 0.0}],
    }
    parse_storyboard(diagram_storyboard(visual))
    visual["motions"].append({"shape": "earth", "x": 0.0, "y": 2.0})
    with pytest.raises(InvalidStoryboardError, match=r"motions\.2: moving 'earth' to \(0, 2\) puts it on top of"):
        parse_storyboard(diagram_storyboard(visual))


def test_an_arrow_from_a_shape_to_itself_is_refused_naming_the_arrow():
    visual = {"shapes": [{"id": "sun"}, {"id": "earth", "x": 3.0}], "arrows": [{"source": "earth", "target": "earth"}]}
    with pytest.raises(
        InvalidStoryboardError,
        match=r"scenes\.0\.visual\.diagram\.arrows\.0: the arrow goes from 'earth' to itself: point it at another",
    ):
        parse_storyboard(diagram_storyboard(visual))


def test_in_markdown_a_move_onto_another_shape_is_refused_naming_its_line():
    lecture = "# Orbits\n\n```diagram\nsun: Sun\nearth: Earth\nmove earth to -1.4,0\n```\n"
    with pytest.raises(
        InvalidStoryboardError,
        match=r"line 6: motions: moving 'earth' to \(-1\.4, 0\) puts it on top of shapes\.0 \('sun'\)",
    ):
        markdown_to_storyboard(lecture)
