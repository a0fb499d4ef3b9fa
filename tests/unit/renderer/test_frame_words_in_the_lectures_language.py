"""The only words the renderer adds to a frame by itself (the key-takeaways heading, the mark on a
section's continuation cards) are in the lecture's language: a Chinese or Arabic lecture never shows
English words it did not write."""

from __future__ import annotations

import warnings

import pytest

from videojob.frame_words import WORDS, continued_mark, takeaways_heading
from videojob.renderer.markdown_source import markdown_to_storyboard
from videojob.storyboard import THEMES, parse_storyboard

with warnings.catch_warnings():  # Manim's audio dependency imports audioop, deprecated in Python 3.11
    warnings.simplefilter("ignore", DeprecationWarning)
    from manim import Text, tempconfig

    from videojob.renderer.scenes import TEMPLATES
from videojob.renderer.timing import plan_scene


def _takeaways(language: str, **visual: object):
    board = parse_storyboard(
        {
            "title": "T",
            "language": language,
            "scenes": [{"narration": "n", "visual": {"kind": "key_takeaways", "points": ["p"], **visual}}],
        }
    )
    return board.scenes[0].visual


@pytest.mark.parametrize(
    ("language", "heading"),
    [
        ("en", "Key takeaways"),
        ("zh", "关键要点"),
        ("zh-Hant-TW", "關鍵要點"),
        ("ar", "النقاط الرئيسية"),
        ("fr", "À retenir"),
    ],
)
def test_the_takeaways_heading_is_in_the_storyboards_language(language, heading):
    assert _takeaways(language).heading == heading


def test_a_language_the_table_lacks_gets_no_heading_rather_than_an_english_one():
    assert takeaways_heading("tlh") is None
    assert _takeaways("tlh").heading is None
    assert continued_mark("tlh") == " …"


def test_a_storyboards_own_heading_is_kept_whatever_its_language():
    assert _takeaways("zh", heading="记住这些").heading == "记住这些"
    flat = parse_storyboard(
        {"title": "T", "scenes": [{"template": "takeaways", "title": "Remember", "narration": "n", "points": ["p"]}]}
    )
    assert flat.scenes[0].visual.heading == "Remember"


def test_every_language_in_the_table_has_both_words_and_none_of_them_is_english_but_english():
    english = WORDS["en"]
    for language, words in WORDS.items():
        assert words.takeaways.strip() and words.continued.strip(), language
        if not language.startswith("en"):
            assert words.takeaways != english.takeaways and words.continued != english.continued, language


def _drawn_words(visual, orientation: str, tmp_path) -> list[str]:
    width, height = (1280, 720) if orientation == "landscape" else (720, 1280)
    options = {
        "pixel_width": width,
        "pixel_height": height,
        "frame_width": 8.0 * width / height,
        "media_dir": str(tmp_path),
        "disable_caching": True,
        "verbosity": "ERROR",
    }
    with tempconfig(options):
        scene = TEMPLATES[visual.kind](visual, "n", THEMES["default"], plan_scene(4.0, 30))
        pages = scene.build()
    return [m.text for page in pages for part in page.mobjects for m in part.get_family() if isinstance(m, Text)]


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_a_chinese_takeaways_card_draws_its_chinese_heading_and_no_english(orientation, tmp_path):
    drawn = " ".join(_drawn_words(_takeaways("zh"), orientation, tmp_path))
    assert "关键要点" in drawn
    assert "Key" not in drawn and "takeaways" not in drawn


def test_a_card_without_a_heading_draws_only_its_points(tmp_path):
    assert sorted(_drawn_words(_takeaways("tlh"), "landscape", tmp_path)) == ["1.", "p"]


def test_a_markdown_lectures_own_takeaways_heading_is_shown_in_any_language():
    board = markdown_to_storyboard("---\nlanguage: zh\n---\n# 波\n\n## 关键要点\n\n- 波传递能量\n- 不传递物质\n")
    takeaways = board.scenes[-1].visual
    assert (takeaways.kind, takeaways.heading) == ("key_takeaways", "关键要点")
    english = markdown_to_storyboard("# Waves\n\n## Summary\n\n- Waves carry energy\n")
    assert english.scenes[-1].visual.heading == "Summary"


def test_continuation_cards_of_an_arabic_lecture_say_so_in_arabic():
    paragraph = " ".join(f"الجملة رقم {n} تشرح تفصيلا آخر من التجربة." for n in range(80))
    board = markdown_to_storyboard(f"---\nlanguage: ar\n---\n# البصريات\n\n## الانكسار\n\n{paragraph}\n")
    titles = [scene.visual.title for scene in board.scenes[1:]]
    assert len(titles) > 1
    assert titles == ["الانكسار"] + ["الانكسار (تابع)"] * (len(titles) - 1)
