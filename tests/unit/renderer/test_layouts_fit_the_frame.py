"""For any valid storyboard, every template's pages fit the frame: inside the safe area, no two lines of
text overlapping, no text below the smallest size of the type scale. Landscape and portrait.

Storyboards are generated at and near the limits of videojob/limits.py (longest titles and items, most
bullets, longest code, extreme plot ranges, most timeline events, crowded diagrams), in English, Chinese
and Arabic words. The templates are laid out (Manim mobjects built and placed), never rendered: fast
enough to try many. The equation template is left out: TeX sets it and it is scaled to fit as a whole.
"""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from videojob import limits as L
from videojob.renderer import layout
from videojob.renderer.layout import Box, Layout

with warnings.catch_warnings():  # Manim's audio dependency imports audioop, deprecated in Python 3.11
    warnings.simplefilter("ignore", DeprecationWarning)
    from manim import Text, tempconfig

    from videojob.renderer.scenes import TEMPLATES
from videojob.renderer.timing import plan_scene
from videojob.storyboard import THEMES, Visual

FRAMES = {"landscape": (1280, 720), "portrait": (720, 1280)}
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
    "diagram": st.integers(1, L.DIAGRAM_SHAPES_MAX).flatmap(
        lambda n: st.builds(
            lambda shapes, arrows: {"kind": "diagram", "shapes": shapes, "arrows": arrows},
            st.tuples(
                *[
                    st.builds(
                        lambda shape, label, x, y, size, i=i: {
                            "id": f"s{i}",
                            "shape": shape,
                            "label": label,
                            "x": x,
                            "y": y,
                            "size": size,
                        },
                        st.sampled_from(["circle", "square", "rectangle", "triangle", "dot"]),
                        st.none() | text_of(L.DIAGRAM_LABEL_MAX_CHARS),
                        st.sampled_from([-6.5, -3.0, 0.0, 2.5, 6.5]),
                        st.sampled_from([-3.5, -1.0, 0.0, 3.5]),
                        st.sampled_from([0.1, 1.0, 2.5, 4.0]),
                    )
                    for i in range(n)
                ]
            ).map(list),
            st.lists(
                st.builds(
                    lambda a, b, label: {"source": f"s{a}", "target": f"s{b}", "label": label},
                    st.integers(0, n - 1),
                    st.integers(0, n - 1),
                    st.none() | text_of(L.DIAGRAM_LABEL_MAX_CHARS),
                ),
                max_size=L.DIAGRAM_ARROWS_MAX,
            ),
        )
    ),
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
    },
}  # fmt: skip


def lay_out(visual: dict, orientation: str, tmp_path) -> tuple[Layout, list]:
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
        return scene.layout, scene.build()


def check_fits(visual: dict, orientation: str, tmp_path) -> None:
    frame, pages = lay_out(visual, orientation, tmp_path)
    assert pages, "nothing laid out"
    for number, page in enumerate(pages, start=1):
        where = f"{visual['kind']} ({orientation}), page {number} of {len(pages)}"
        lines = []
        for part in page.mobjects:
            assert frame.inside(Box.of(part), slack=0.02), (
                f"{where}: {type(part).__name__} leaves the safe area: {Box.of(part)}"
            )
            lines += [m for m in part.get_family() if isinstance(m, Text) and m.submobjects]
        for line in lines:
            assert line.font_size >= layout.SMALLEST - 0.5, f"{where}: {line.text!r} at {line.font_size:.1f} pt"
        if visual["kind"] == "diagram":
            continue  # where shapes go is the author's choice, and two may be put on one spot
        for one, other in itertools.combinations(lines, 2):
            assert not Box.of(one).overlaps(Box.of(other), slack=0.02), f"{where}: {one.text!r} overlaps {other.text!r}"


@pytest.mark.parametrize("orientation", sorted(FRAMES))
@pytest.mark.parametrize("kind", sorted(VISUALS))
def test_the_longest_storyboard_fits_every_template(kind, orientation, tmp_path):
    check_fits(LONGEST[kind], orientation, tmp_path)


@pytest.mark.parametrize("kind", sorted(VISUALS))
def test_generated_storyboards_fit_every_template(kind, tmp_path_factory):
    # Two examples a template (in either frame) keep this within a minute on an idle machine;
    # the longest storyboards above cover the limits in both frames every time.
    slow = [HealthCheck.too_slow, HealthCheck.data_too_large]

    @settings(max_examples=2, deadline=None, derandomize=True, suppress_health_check=slow, database=None)
    @given(VISUALS[kind], st.sampled_from(sorted(FRAMES)))
    def fits(visual, orientation):
        check_fits(visual, orientation, tmp_path_factory.mktemp("layout"))

    fits()


def test_the_check_sees_text_that_leaves_the_frame(tmp_path):
    # The control: a line moved past the edge is reported, so a passing check means something.
    frame, pages = lay_out({"kind": "bullet_list", "bullets": ["wave"]}, "portrait", tmp_path)
    pages[0].mobjects[0].shift([frame.frame_width, 0, 0])
    assert not frame.inside(Box.of(pages[0].mobjects[0]))
