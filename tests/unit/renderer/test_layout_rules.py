"""The rules every template lays out by (renderer/layout.py): sizes a phone can read, lines that break
where a reader expects, right-to-left text recognised, and pages that never cut what fits whole."""

import pytest

from videojob.renderer import layout
from videojob.renderer.layout import Layout, flow, is_right_to_left, wrap


def test_the_smallest_text_has_capitals_four_percent_of_the_frame_and_the_scale_grows_from_there():
    assert layout.cap_share(layout.SMALLEST) >= 0.04
    assert layout.SMALLEST < layout.BODY < layout.HEADING < layout.TITLE


@pytest.mark.parametrize(("pixels", "portrait"), [((1280, 720), False), ((720, 1280), True), ((1080, 1920), True)])
def test_the_safe_area_is_inside_the_frame_of_either_orientation(pixels, portrait):
    frame = Layout.for_pixels(*pixels)
    assert frame.portrait is portrait
    assert frame.frame_width == pytest.approx(8.0 * pixels[0] / pixels[1])
    assert frame.left + frame.frame_width / 2 > 0 and frame.right < frame.frame_width / 2
    assert frame.width > 0.85 * frame.frame_width and frame.height >= 0.9 * frame.frame_height


def test_words_stay_whole_and_every_line_fits():
    text = "Every wave has a speed, a frequency and a wavelength"
    lines = wrap(text, 4.0, layout.BODY)
    assert " ".join(lines) == text
    assert len(lines) > 1
    assert all(layout.estimated_width(line, layout.BODY) <= 4.0 for line in lines)


def test_chinese_breaks_between_characters_and_a_word_longer_than_the_line_is_cut():
    chinese = wrap("波的物理学" * 6, 3.0, layout.BODY)
    assert "".join(chinese) == "波的物理学" * 6 and len(chinese) > 1
    endless = wrap("x" * 100, 3.0, layout.BODY)
    assert "".join(endless) == "x" * 100 and all(layout.estimated_width(line, layout.BODY) <= 3.0 for line in endless)


@pytest.mark.parametrize(
    ("text", "rtl"),
    [("مقدمة في الفيزياء", True), ("שלום עולם", True), ("1865: مقدمة", True), ("Waves مقدمة", False), ("波", False)],
)
def test_a_line_reads_right_to_left_when_its_first_strong_letter_does(text, rtl):
    assert is_right_to_left(text) is rtl


def _height(_item, lines):
    return float(len(lines))  # one unit a line


def test_a_block_that_fits_a_page_moves_to_the_next_page_whole():
    pages = flow([(0, list("abc")), (1, list("defg"))], room=5.0, gap=0.5, height_of=_height)
    assert [[(item, "".join(lines), continued) for item, lines, continued in page] for page in pages] == [
        [(0, "abc", False)],
        [(1, "defg", False)],
    ]


def test_a_block_taller_than_a_page_is_split_between_lines():
    pages = flow([(0, list("abcdefgh"))], room=3.0, gap=0.5, height_of=_height)
    assert [["".join(lines) for _, lines, _ in page] for page in pages] == [["abc"], ["def"], ["gh"]]
    assert [continued for page in pages for _, _, continued in page] == [False, True, True]
