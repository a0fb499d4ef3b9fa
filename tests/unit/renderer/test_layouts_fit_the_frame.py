"""For any valid storyboard, every template's pages fit the frame: inside the safe area, no two lines of
text (or of an equation) overlapping, no text below the smallest size of the type scale and no equation
below the smallest size for mathematics (its capitals as tall as the smallest text's). Landscape and portrait.

Storyboards are generated at and near the limits of videojob/limits.py (longest titles and items, most
bullets, longest code, extreme plot ranges, most timeline events, crowded diagrams, the longest equations
made of pieces a line may break between), in English, Chinese and Arabic words. The templates are laid
out (Manim mobjects built and placed; equations typeset by the real TeX), never rendered: fast enough
to try many. An equation with a part too wide to read even alone on a line is refused (tested below).
A diagram is checked again at the end of each of its motions (moves, half turns, pulses), played with
each animation jumped to its end (support/laid_out.py).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from videojob import limits as L
from videojob.renderer import layout
from videojob.renderer.layout import Box

with warnings.catch_warnings():  # Manim's audio dependency imports audioop, deprecated in Python 3.11
    warnings.simplefilter("ignore", DeprecationWarning)
    from manim import MathTex, Text, tempconfig

    from videojob.renderer.scenes.equations import EquationLine, EquationTooWideError

from support.laid_out import FRAMES, check_fits, check_pages, lay_out, lay_out_scene
from videojob.renderer.timing import plan_scene
from videojob.visuals import Visual

WORDS = [
    "wave", "energy", "a", "transverse", "longitudinal", "frequency", "of", "the", "interference",
    "Schrödinger", "1865", "波的", "物理学", "能量", "مقدمة", "في", "الفيزياء", "موجة",
]  # fmt: skip


def text_of(max_chars: int, min_chars: int = 1) -> st.SearchStrategy[str]:
    """Words up to ``max_chars`` characters, often exactly at the limit; sometimes one endless word."""
    words = st.lists(st.sampled_from(WORDS), min_size=1, max_size=max_chars).map(" ".join)
    at_limit = words.map(lambda t: (t + " ") * (max_chars // max(1, len(t)) + 1)).map(lambda t: t[:max_chars].strip())
    endless = st.sampled_from(["x", "波", "م"]).map(lambda c: c * max_chars)
    return st.one_of(at_limit, words.map(lambda t: t[:max_chars].strip()), endless).filter(
        lambda t: len(t) >= min_chars
    )


items = text_of(L.ITEM_MAX_CHARS)
titles = text_of(L.TITLE_MAX_CHARS)
# Pieces of mathematics each narrow enough for a portrait line at the smallest size, and what joins them.
MATH_ATOMS = [
    "x", "x^2", "a_{n}", r"\frac{1}{2}", r"\sqrt{x+1}", r"\alpha", r"\sin\theta", r"\int_0^1 f(x)\,dx",
    r"\sum_{k=1}^{n} k", r"\left(a+b\right)", r"e^{i\pi}", "42", r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}",
]  # fmt: skip
MATH_JOINS = [" + ", " - ", " = ", r" \le ", r" \approx ", r" \cdot ", r" \\ "]


def equation_of(max_chars: int) -> st.SearchStrategy[str]:
    """Atoms joined by relations, operators and line breaks, up to ``max_chars``, often at the limit."""
    chains = st.lists(st.tuples(st.sampled_from(MATH_JOINS), st.sampled_from(MATH_ATOMS)), max_size=60)
    at_limit = st.just(True) | st.just(False)

    def build(first: str, rest: list[tuple[str, str]], fill: bool) -> str:
        latex = first
        joined = rest * (1 + max_chars // max(1, len("".join(j + a for j, a in rest)))) if fill and rest else rest
        for join, atom in joined:
            if len(latex) + len(join) + len(atom) > max_chars:
                break
            latex += join + atom
        return latex

    return st.builds(build, st.sampled_from(MATH_ATOMS), chains, at_limit)


SPOTS_X, SPOTS_Y = [-6.5, -3.0, 0.0, 2.5, 6.5], [-3.5, -1.0, 0.0, 3.5]


def validates(visual: dict) -> bool:
    """Whether the storyboard's validation takes ``visual`` (a motion onto another shape is refused, tested below)."""
    try:
        TypeAdapter(Visual).validate_python(visual)
    except ValueError:
        return False
    return True


code_lines = st.text(alphabet="abcdefghij (){}[]=+-*/:;,.'\"0123456789_", min_size=0, max_size=L.CODE_MAX_COLUMNS)

VISUALS: dict[str, st.SearchStrategy[dict]] = {
    "title_card": st.builds(
        lambda title, subtitle: {"kind": "title_card", "title": title, "subtitle": subtitle},
        titles,
        st.none() | text_of(L.SUBTITLE_MAX_CHARS),
    ),
    "bullet_list": st.builds(
        lambda heading, bullets: {"kind": "bullet_list", "heading": heading, "bullets": bullets},
        st.none() | titles,
        st.lists(items, min_size=1, max_size=L.BULLETS_MAX),
    ),
    "key_takeaways": st.builds(
        lambda points: {"kind": "key_takeaways", "points": points},
        st.lists(items, min_size=1, max_size=L.TAKEAWAYS_MAX),
    ),
    "comparison": st.builds(
        lambda lt, li, rt, ri: {
            "kind": "comparison",
            "left_title": lt,
            "left_items": li,
            "right_title": rt,
            "right_items": ri,
        },
        titles,
        st.lists(items, min_size=1, max_size=L.COMPARISON_ITEMS_MAX),
        titles,
        st.lists(items, min_size=1, max_size=L.COMPARISON_ITEMS_MAX),
    ),
    "timeline": st.builds(
        lambda events: {"kind": "timeline", "events": events},
        st.lists(
            st.builds(
                lambda when, label: {"when": when, "label": label},
                text_of(L.TIMELINE_WHEN_MAX_CHARS),
                text_of(L.TIMELINE_LABEL_MAX_CHARS),
            ),
            min_size=L.TIMELINE_EVENTS_MIN,
            max_size=L.TIMELINE_EVENTS_MAX,
        ),
    ),
    "equation": st.builds(
        lambda latex, caption: {"kind": "equation", "latex": latex, "caption": caption},
        equation_of(L.LATEX_MAX_CHARS),
        st.none() | text_of(L.CAPTION_MAX_CHARS),
    ),
    "code": st.builds(
        lambda lines: {"kind": "code", "code": "\n".join(lines)[: L.CODE_MAX_CHARS] or "x"},
        st.lists(code_lines, min_size=1, max_size=L.CODE_MAX_LINES),
    ),
    "function_plot": st.builds(
        lambda expression, low, span, label: {
            "kind": "function_plot",
            "expression": expression,
            "x_min": low,
            "x_max": low + span,
            "label": label,
        },
        st.sampled_from(["sin(x)", "1/x", "exp(x)", "x^3 - x", "log(x)", "tan(x)", "sqrt(x)", "1e6*x"]),
        st.sampled_from([-1e6 + 1, -1e3, -5.0, 0.0, 1e5]),
        st.sampled_from([1e-6, 0.5, 10.0, 1e3, 1.9e6 - 2]),
        st.none() | text_of(L.PLOT_LABEL_MAX_CHARS),
    ).filter(lambda v: v["x_max"] < 1e6),
    "diagram": st.integers(1, L.DIAGRAM_SHAPES_MAX)
    .flatmap(
        lambda n: st.builds(
            lambda shapes, arrows, motions: {"kind": "diagram", "shapes": shapes, "arrows": arrows, "motions": motions},
            st.builds(
                lambda spots, looks: [
                    {"id": f"s{i}", "shape": shape, "label": label, "x": x, "y": y, "size": size}
                    for i, ((x, y), (shape, label, size)) in enumerate(zip(spots, looks, strict=True))
                ],
                # Each shape on its own spot: two on one spot are refused (tested below), not laid out.
                st.lists(
                    st.tuples(st.sampled_from(SPOTS_X), st.sampled_from(SPOTS_Y)), min_size=n, max_size=n, unique=True
                ),
                st.lists(
                    st.tuples(
                        st.sampled_from(["circle", "square", "rectangle", "triangle", "dot"]),
                        st.none() | text_of(L.DIAGRAM_LABEL_MAX_CHARS),
                        st.sampled_from([0.1, 1.0, 2.5, 4.0]),
                    ),
                    min_size=n,
                    max_size=n,
                ),
            ),
            st.lists(
                st.builds(  # between two shapes: an arrow from a shape to itself is refused
                    lambda a, step, label: {"source": f"s{a}", "target": f"s{(a + step) % n}", "label": label},
                    st.integers(0, n - 1),
                    st.integers(1, max(1, n - 1)),
                    st.none() | text_of(L.DIAGRAM_LABEL_MAX_CHARS),
                ),
                max_size=L.DIAGRAM_ARROWS_MAX if n > 1 else 0,
            ),
            # Moves to the spots other shapes stand on (or near them), turns and pulses.
            st.lists(
                st.builds(
                    lambda shape, action, x, y: {"shape": f"s{shape}", "action": action, "x": x, "y": y},
                    st.integers(0, n - 1),
                    st.sampled_from(["move", "move", "rotate", "pulse"]),
                    st.sampled_from([*SPOTS_X, 1.0]),
                    st.sampled_from([*SPOTS_Y, -0.5]),
                ),
                max_size=L.DIAGRAM_MOTIONS_MAX,
            ),
        )
    )
    .filter(validates),
}
LONGEST: dict[str, dict[str, Any]] = {  # every list at its longest and every text at its limit, for each template
    "title_card": {"kind": "title_card", "title": "wave " * 24, "subtitle": "能量" * 100},
    "bullet_list": {"kind": "bullet_list", "heading": "موجة " * 24, "bullets": ["frequency " * 16] * L.BULLETS_MAX},
    "key_takeaways": {"kind": "key_takeaways", "points": ["الفيزياء " * 17] * L.TAKEAWAYS_MAX},
    "comparison": {
        "kind": "comparison",
        "left_title": "x" * L.TITLE_MAX_CHARS,
        "left_items": ["interference " * 12] * L.COMPARISON_ITEMS_MAX,
        "right_title": "物理学" * 40,
        # Chinese in one item only: each line of Han glyphs costs a second to build on a busy machine.
        "right_items": ["波" * L.ITEM_MAX_CHARS] + ["longitudinal " * 12] * (L.COMPARISON_ITEMS_MAX - 1),
    },
    "timeline": {"kind": "timeline", "events": [{"when": "1" * 24, "label": "energy " * 8 + "wave"}] * 8},
    "code": {"kind": "code", "code": "\n".join(["x = '" + "y" * 74 + "'"] * L.CODE_MAX_LINES)},
    "equation": {
        "kind": "equation",
        "latex": " + ".join([r"\frac{x_{k}^2}{2}"] * 100)[: L.LATEX_MAX_CHARS].rsplit(" + ", 1)[0],
        "caption": ("wave energy 能量 " * 12)[: L.CAPTION_MAX_CHARS],
    },
    "function_plot": {
        "kind": "function_plot", "expression": "1/x", "x_min": -999999, "x_max": 999999, "label": "w" * 80
    },
    "diagram": {
        "kind": "diagram",
        "shapes": [
            {
                "id": f"s{i}", "shape": "rectangle", "label": "m" * 40,
                "x": -6.5 + 13 * (i % 4) / 3, "y": 3.5 - 7 * (i // 4) / 2, "size": 4,
            }
            for i in range(L.DIAGRAM_SHAPES_MAX)
        ],
        "arrows": [{"source": "s0", "target": f"s{i}", "label": "n" * 40} for i in range(1, 12)],
        # Every shape that moves goes to a free place between the others, then turns or pulses.
        "motions": [
            {"shape": "s0", "action": "move", "x": 0.0, "y": 0.0},
            {"shape": "s5", "action": "move", "x": 4.3, "y": -1.75},
            {"shape": "s0", "action": "rotate"},
            {"shape": "s11", "action": "move", "x": -4.0, "y": 0.0},
            {"shape": "s3", "action": "pulse"},
            {"shape": "s0", "action": "move", "x": 2.0, "y": 1.0},
            {"shape": "s6", "action": "rotate"},
            {"shape": "s1", "action": "move", "x": -6.5, "y": -1.0},
        ],
    },
}  # fmt: skip


@pytest.mark.parametrize("orientation", sorted(FRAMES))
@pytest.mark.parametrize("kind", sorted(VISUALS))
def test_the_longest_storyboard_fits_every_template(kind, orientation, tmp_path, longest_laid_out):
    check_fits(LONGEST[kind], orientation, tmp_path, longest_laid_out(kind, orientation))


@pytest.fixture(scope="module")
def longest_laid_out(tmp_path_factory):
    """The longest storyboards laid out once each (the slowest to build), for every test that reads them."""
    built: dict[tuple[str, str], Any] = {}

    def laid_out(kind: str, orientation: str):
        if (kind, orientation) not in built:
            built[kind, orientation] = lay_out_scene(LONGEST[kind], orientation, tmp_path_factory.mktemp("longest"))
        return built[kind, orientation]

    return laid_out


@pytest.mark.parametrize("kind", sorted(VISUALS))
def test_generated_storyboards_fit_every_template(kind, tmp_path_factory):
    # Two examples a template (in either frame) keep this within a minute on an idle machine;
    # the longest storyboards above cover the limits in both frames every time.
    slow = [HealthCheck.too_slow, HealthCheck.data_too_large]

    # Equations are typeset by TeX, a fraction of a second each: a few more of them.
    @settings(
        max_examples={"equation": 6, "diagram": 5}.get(kind, 2),
        deadline=None,
        derandomize=True,
        suppress_health_check=slow,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: a failing example is reported as found, at once
    )
    @given(VISUALS[kind], st.sampled_from(sorted(FRAMES)))
    def fits(visual, orientation):
        check_fits(visual, orientation, tmp_path_factory.mktemp("layout"))

    fits()


def test_the_check_sees_text_that_leaves_the_frame(tmp_path):
    # The control: a line moved past the edge is reported, so a passing check means something.
    frame, pages = lay_out({"kind": "bullet_list", "bullets": ["wave"]}, "portrait", tmp_path)
    pages[0].mobjects[0].shift([frame.frame_width, 0, 0])
    assert not frame.inside(Box.of(pages[0].mobjects[0]))


def test_the_check_sees_code_rows_that_overlap_and_a_divider_across_words(tmp_path):
    # The controls for the listing's rows and the comparison's divider: each moved onto another is reported.
    scene = lay_out_scene({"kind": "code", "code": "x = 1\ny = 2"}, "landscape", tmp_path)
    rows = scene.laid_out[0].mobjects[0].code_lines
    rows[1].move_to(rows[0].get_center())
    with pytest.raises(AssertionError, match="overlaps"):
        check_pages(scene, "code (landscape)")
    visual = {"kind": "comparison", "left_title": "A", "left_items": ["a"], "right_title": "B", "right_items": ["b"]}
    scene = lay_out_scene(visual, "landscape", tmp_path)
    page = scene.laid_out[0]
    [divider] = [part for part in page.mobjects if type(part).__name__ == "Line"]
    divider.move_to(page.mobjects[-1].get_center())
    with pytest.raises(AssertionError, match="the divider crosses"):
        check_pages(scene, "comparison (landscape)")


def test_the_smallest_equation_has_capitals_as_tall_as_the_smallest_text(tmp_path):
    # The conversion the equation template sizes by, measured again with the real TeX.
    with tempconfig({"media_dir": str(tmp_path), "verbosity": "ERROR"}):
        capital = MathTex("X", font_size=layout.SMALLEST_MATH)
    assert capital.height / layout.FRAME_HEIGHT >= layout.MIN_CAP_SHARE
    assert capital.height / layout.SMALLEST_MATH == pytest.approx(layout.MATH_CAP_PER_POINT, rel=0.01)


@pytest.mark.parametrize("orientation", sorted(FRAMES))
def test_a_long_equation_is_set_on_lines_at_a_readable_size_not_shrunk(orientation, tmp_path):
    latex = " + ".join(f"x_{{{k}}}^2" for k in range(30)) + r" = \sum_{k=0}^{29} x_k^2"
    _, pages = lay_out({"kind": "equation", "latex": latex}, orientation, tmp_path)
    lines = [
        line for page in pages for part in page.mobjects for line in part.get_family() if isinstance(line, EquationLine)
    ]
    assert len(lines) > 1
    assert min(line.font_size for line in lines) >= layout.SMALLEST_MATH


def test_a_short_equation_stays_on_one_line_and_large(tmp_path):
    _, pages = lay_out({"kind": "equation", "latex": "E = mc^2"}, "portrait", tmp_path)
    [line] = [m for part in pages[0].mobjects for m in part.get_family() if isinstance(m, EquationLine)]
    assert line.font_size > layout.SMALLEST_MATH * 1.5


@pytest.mark.parametrize("orientation", sorted(FRAMES))
def test_a_part_no_break_can_make_readable_is_refused_naming_it(orientation, tmp_path):
    wide = r"\frac{" + "+".join(f"a_{{{k}}}" for k in range(45)) + "}{2}"  # a fraction bar cannot break
    with pytest.raises(EquationTooWideError, match=r"the part \"= \\frac\{a_\{0\}\+a_\{1\}.*too wide.*break it with"):
        lay_out({"kind": "equation", "latex": "y = " + wide}, orientation, tmp_path)


def test_an_unreadable_equation_stops_the_render_as_bad_input_naming_the_field(tmp_path):
    from videojob.renderer.errors import LatexRejectedError, failure_for
    from videojob.renderer.manim_render import SceneJob, render_scene

    wide = r"y = \frac{" + "+".join("abcdefghijklmnopqrstuvwxyz") + "}{2}"
    job = SceneJob(
        0, {"kind": "equation", "latex": wide}, "Look.", "default", plan_scene(2.0, 15), 480, 854, tmp_path / "s.mp4"
    )
    with pytest.raises(
        LatexRejectedError, match=r"scenes\.0\.visual\.latex \(scene 1\): the part .* too wide .* portrait"
    ) as caught:
        render_scene(job)
    failure, exit_code = failure_for(caught.value)
    assert (failure.reason, exit_code) == ("InvalidStoryboard", 65)
    assert not (tmp_path / "s.mp4").exists()


def test_two_shapes_on_one_spot_are_refused_naming_both():
    shapes = [{"id": "sun", "x": 1.0, "y": 1.0, "size": 2.0}, {"id": "moon", "x": 1.1, "y": 1.0, "size": 2.0}]
    with pytest.raises(ValueError, match=r"shapes\.1 \('moon'\) is drawn on top of shapes\.0 \('sun'\).*own x and y"):
        TypeAdapter(Visual).validate_python({"kind": "diagram", "shapes": shapes})


@pytest.mark.parametrize("orientation", sorted(FRAMES))
def test_a_shape_inside_another_keeps_its_place_and_both_labels_stay_clear(orientation, tmp_path):
    # An orbit and its sun: the author means the overlap, so it is drawn as placed.
    visual = {
        "kind": "diagram",
        "shapes": [
            {"id": "orbit", "shape": "circle", "label": "The orbit of the Earth", "size": 4.0},
            {"id": "sun", "shape": "circle", "label": "Sun", "size": 0.8},
            {"id": "earth", "shape": "dot", "label": "Earth", "x": 2.0},
        ],
        "arrows": [{"source": "sun", "target": "earth", "label": "gravity"}],
    }
    check_fits(visual, orientation, tmp_path)
    scene = lay_out_scene(visual, orientation, tmp_path)
    orbit, sun = (scene.nodes[key][0] for key in ("orbit", "sun"))
    assert np.allclose(orbit.get_center(), sun.get_center())


def test_a_word_wider_than_its_estimate_steps_the_size_down_rather_than_being_cut(tmp_path):
    # Seen on a portrait takeaways card: "wavelength" came out wider than estimated and was drawn "wavelengt" + "h".
    visual = {
        "kind": "key_takeaways",
        "heading": "Key takeaways",
        "points": ["Speed equals frequency times wavelength"],
    }
    _, pages = lay_out(visual, "portrait", tmp_path)
    drawn = [m.text for page in pages for part in page.mobjects for m in part.get_family() if isinstance(m, Text)]
    assert "wavelength" in drawn


@pytest.mark.parametrize("orientation", sorted(FRAMES))
def test_a_diagram_too_crowded_to_label_in_place_keys_its_labels_and_lists_them(orientation, longest_laid_out):
    scene = longest_laid_out("diagram", orientation)
    shown_words = [
        m.text for page in scene.laid_out for part in page.mobjects for m in part.get_family() if isinstance(m, Text)
    ]
    keys = [str(n) for n in range(1, L.DIAGRAM_SHAPES_MAX + 1)] + list("abcdefghijk")
    assert set(keys) <= set(shown_words)  # every shape and labelled arrow carries its key
    listed = " ".join(shown_words)
    # and every label is listed whole (each is 40 of one letter, wrapped as it must be)
    assert listed.count("m") >= 40 * L.DIAGRAM_SHAPES_MAX and listed.count("n") >= 40 * 11
