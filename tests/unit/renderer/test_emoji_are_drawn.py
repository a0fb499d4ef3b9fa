"""Emoji in a storyboard's text are drawn, as outlines (Symbola), not dropped.

Pango hands an emoji to the colour emoji font, whose bitmap glyphs Manim's SVG import drops:
the text form (variation selector 15) makes it take Symbola's outline instead. Real Manim and
the fonts from hack/apt-packages.txt; nothing is rendered to frames.
"""

from __future__ import annotations

import warnings

import pytest

from videojob.renderer.themes import TEXT_PRESENTATION, font_families, text_presentation

with warnings.catch_warnings():  # Manim's audio dependency imports audioop, deprecated in Python 3.11
    warnings.simplefilter("ignore", DeprecationWarning)
    from manim import Text, tempconfig

ROCKET, EARTH = "\U0001f680", "\U0001f30d"


@pytest.fixture(autouse=True)
def media_in_tmp(tmp_path):  # Manim writes each Text's SVG under media_dir
    with tempconfig({"media_dir": str(tmp_path), "verbosity": "ERROR"}):
        yield


def drawn_glyphs(text: str) -> int:
    return len(Text(text, font=font_families(text), font_size=48, warn_missing_font=False).submobjects)


def test_each_emoji_asks_for_its_text_form_once() -> None:
    assert text_presentation(f"Launch {ROCKET}!") == f"Launch {ROCKET}{TEXT_PRESENTATION}!"
    assert text_presentation(f"{EARTH}\ufe0f") == f"{EARTH}{TEXT_PRESENTATION}"  # the picture form is replaced
    assert text_presentation(f"{EARTH}{TEXT_PRESENTATION}") == f"{EARTH}{TEXT_PRESENTATION}"
    assert text_presentation("a = 3, b = 4 #1") == "a = 3, b = 4 #1"  # digits and ASCII untouched


@pytest.mark.parametrize("line", [f"{ROCKET}{EARTH}", f"To the moon {ROCKET}", "Weather \u2600 and \u2614"])
def test_a_line_with_emoji_draws_a_glyph_for_every_character(line: str) -> None:
    visible = sum(1 for char in line if not char.isspace())
    assert drawn_glyphs(text_presentation(line)) == visible


def test_without_the_text_form_the_emoji_vanish() -> None:  # the control: what users saw before
    assert drawn_glyphs(f"A{ROCKET}B") == 2
