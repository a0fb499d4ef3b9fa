"""A comparison with few items and a short code listing use the frame (issue 13): the comparison's block is
centred in the safe area, its items as large as the headers allow without wrapping more than at the body
size; a code line too long for the largest size is set smaller rather than wrapped, and a line too long
even at the smallest size wraps onto a row that reads as its continuation, never as a new statement."""

from __future__ import annotations

import warnings

import pytest
from pygments.styles import get_style_by_name
from pygments.token import Token

from videojob.renderer import layout
from videojob.renderer.layout import Box

with warnings.catch_warnings():  # Manim's audio dependency imports audioop, deprecated in Python 3.11
    warnings.simplefilter("ignore", DeprecationWarning)
    from manim import Line, Text

from support.laid_out import check_fits, lay_out_scene
from videojob.renderer.scenes.code import CONTINUED, wrap_code

OLD_ITEM_SIZE = (layout.BODY + layout.HEADING) // 2  # what every comparison's items were set at before


def _texts(page) -> list[Text]:
    return [m for part in page.mobjects for m in part.get_family() if isinstance(m, Text) and m.submobjects]


def test_a_short_comparison_is_centred_and_its_items_are_larger_than_before(tmp_path):
    visual = {
        "kind": "comparison",
        "left_title": "Sound",
        "left_items": ["slow", "needs air", "loud"],
        "right_title": "Light",
        "right_items": ["fast", "vacuum", "bright"],
    }
    scene = lay_out_scene(visual, "landscape", tmp_path)
    check_fits(visual, "landscape", tmp_path, scene)
    [page] = scene.laid_out
    frame = scene.layout
    boxes = [Box.of(text) for text in _texts(page)]  # the words, not the divider between them
    centre = (max(b.top for b in boxes) + min(b.bottom for b in boxes)) / 2
    assert abs(centre - (frame.top + frame.bottom) / 2) <= 0.05 * frame.height
    items = [t for t in _texts(page) if t.text not in ("Sound", "Light")]
    assert min(t.font_size for t in items) > OLD_ITEM_SIZE
    headers = [t for t in _texts(page) if t.text in ("Sound", "Light")]
    assert max(t.font_size for t in items) <= min(t.font_size for t in headers) + 0.5
    [divider] = [m for m in page.mobjects if isinstance(m, Line)]
    assert divider.height < frame.height * 0.8  # as tall as the columns, not the whole frame


def test_comparison_items_the_estimate_would_wrap_stay_on_one_line_when_they_fit(tmp_path):
    # The sample's comparison was drawn "crosses a" / "vacuum" and "about 300 000" / "km/s".
    visual = {
        "kind": "comparison",
        "left_title": "Sound",
        "left_items": ["needs a medium", "about 340 m/s in air"],
        "right_title": "Light",
        "right_items": ["crosses a vacuum", "about 300 000 km/s"],
    }
    scene = lay_out_scene(visual, "landscape", tmp_path)
    check_fits(visual, "landscape", tmp_path, scene)
    drawn = [t.text for page in scene.laid_out for t in _texts(page)]
    assert {"crossesavacuum", "about300000km/s"} <= set(drawn)  # Manim's Text drops the spaces


SAMPLE_CODE = (
    "def wave_speed(frequency_hz, wavelength_m):\n"
    "    return frequency_hz * wavelength_m\n"
    "\n"
    "print(wave_speed(440, 0.78))  # about 343 m/s"
)


def test_a_short_listing_with_a_long_line_is_set_smaller_rather_than_wrapped(tmp_path):
    visual = {"kind": "code", "language": "python", "code": SAMPLE_CODE}
    scene = lay_out_scene(visual, "landscape", tmp_path)
    check_fits(visual, "landscape", tmp_path, scene)
    [page] = scene.laid_out
    [listing] = page.mobjects
    assert len(listing.code_lines) == 4  # one row a line: "m/s" is not on a row of its own


def test_a_short_listing_of_short_lines_is_set_large(tmp_path):
    visual = {"kind": "code", "language": "python", "code": "x = 1\ny = x + 1\nprint(y)"}
    scene = lay_out_scene(visual, "landscape", tmp_path)
    [listing] = scene.laid_out[0].mobjects
    # The old listing's largest size had capitals of the heading size only when a line fit there; these do.
    assert listing.code_lines[0].height >= 0.9 * layout.em(layout.HEADING) * layout.CAP_HEIGHT_EM


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_a_line_too_long_even_at_the_smallest_size_continues_under_a_mark_and_in_its_colour(orientation, tmp_path):
    long_comment = "print(wave_speed(440, 0.78))  # about 343 metres a second in dry air at 20 C"
    visual = {"kind": "code", "language": "python", "code": "x = 1\n" + long_comment}
    scene = lay_out_scene(visual, orientation, tmp_path)
    check_fits(visual, orientation, tmp_path, scene)
    listing = scene.laid_out[0].mobjects[0]
    gutter = [label.text for label in listing.line_numbers]
    assert gutter[:2] == ["1", "2"] and CONTINUED in gutter[2:]
    assert all(label == CONTINUED for label in gutter[2:])  # no number beside the rest of line 2
    # The rest of the comment keeps the comment's colour (a row lexed alone would colour "m/s" as code).
    comment_colour = "#" + get_style_by_name("monokai").style_for_token(Token.Comment)["color"]
    last_row = listing.code_lines[len(gutter) - 1]
    assert {glyph.get_color().to_hex().lower() for glyph in last_row.submobjects} == {comment_colour.lower()}
    # Its rest hangs past the line's start: no continued row starts where a statement would.
    starts = [row.get_left()[0] for row in listing.code_lines]
    assert all(start > starts[1] + 0.1 for start in starts[2 : len(gutter)])


def test_a_comment_wrapped_carries_its_opening_mark_onto_the_row_with_its_words():
    line = "    return frequency_hz * wavelength_m  # metres a second, for this wave"
    rows = wrap_code([line], 44)
    shown = [row.text.strip() for row in rows]
    assert shown == ["return frequency_hz * wavelength_m", "# metres a second, for this wave"]
    assert [row.continued for row in rows] == [False, True]


def test_a_page_that_starts_with_a_blank_line_keeps_it_beside_its_number(tmp_path):
    # In portrait the sample's listing turns a page at its blank third line, which the lexer would drop.
    visual = {"kind": "code", "language": "python", "code": SAMPLE_CODE}
    scene = lay_out_scene(visual, "portrait", tmp_path)
    check_fits(visual, "portrait", tmp_path, scene)
    gutters = [[label.text for label in page.mobjects[0].line_numbers] for page in scene.laid_out]
    numbers = [label for gutter in gutters for label in gutter if label != CONTINUED]
    assert numbers == ["1", "2", "3", "4"]
