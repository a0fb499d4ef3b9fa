"""The only words the renderer adds to a frame or the narration by itself (the key-takeaways heading, the
mark on a section's continuation cards, the title of a lecture that has none, the "Next." said before a
visual nothing introduces) are in the lecture's language: a Chinese or Arabic lecture never shows or says
English words it did not write. A language the table lacks falls back to English for the two that cannot
be left out, and the renderer warns that it did."""

from __future__ import annotations

import logging
import warnings

import pytest

from videojob.frame_words import WORDS, continued_mark, takeaways_heading
from videojob.markdown_lecture import markdown_to_storyboard
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


def test_every_language_in_the_table_has_every_word_and_none_of_them_is_english_but_english():
    english = WORDS["en"]
    for language, words in WORDS.items():
        assert all(word.strip() for word in words), language
        if not language.startswith("en"):
            assert all(own != theirs for own, theirs in zip(words, english, strict=True)), language


UNTITLED = {  # a lecture with no title and no headings: what it is made of, and what it gets in its language
    "zh": ("波传递能量，而不传递物质。", "讲座", "接下来。"),
    "ar": ("تنقل الموجة الطاقة ولا تنقل المادة.", "محاضرة", "التالي."),
}


@pytest.mark.parametrize("language", sorted(UNTITLED))
def test_a_lecture_without_a_title_is_titled_in_its_own_language(language, caplog):
    paragraph, title, _ = UNTITLED[language]
    with caplog.at_level(logging.WARNING):
        board = markdown_to_storyboard(f"---\nlanguage: {language}\n---\n\n{paragraph}\n")
    [scene] = board.scenes
    assert (scene.visual.kind, scene.visual.title) == ("title_card", title)
    assert board.title == title
    assert "English" not in caplog.text


@pytest.mark.parametrize("language", sorted(UNTITLED))
def test_a_visual_nothing_introduces_is_introduced_in_the_lectures_language(language):
    _, _, introduced = UNTITLED[language]
    board = markdown_to_storyboard(f"---\nlanguage: {language}\n---\n\n$$E = mc^2$$\n")
    [scene] = board.scenes
    assert (scene.visual.kind, scene.narration) == ("equation", introduced)


def test_a_language_the_table_lacks_falls_back_to_english_and_the_render_says_so(caplog):
    with caplog.at_level(logging.WARNING, logger="videojob.lecture_scenes"):
        board = markdown_to_storyboard("---\nlanguage: tlh\n---\n\nHeghlu'meH QaQ jajvam.\n")
    assert board.scenes[0].visual.title == "Lecture"
    assert "language 'tlh'" in caplog.text and "'Lecture'" in caplog.text and "in English" in caplog.text
    assert "title" in caplog.text  # and what the author can do about it


def test_a_lecture_with_its_own_title_and_headings_needs_no_fallback(caplog):
    with caplog.at_level(logging.WARNING):
        board = markdown_to_storyboard("---\nlanguage: tlh\n---\n# Qapla'\n\n$$x^2$$\n")
    assert board.title == "Qapla'" and "English" not in caplog.text


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


def test_a_videojobs_language_reaches_the_words_of_its_markdown_lecture(tmp_path):
    # The language is the VideoJob's (spec.language), not the lecture's front matter: the lecture is
    # turned into scenes in it, not in English and then relabelled.
    from videojob.renderer.settings import RendererSettings
    from videojob.renderer.sources import resolve_job
    from videojob.spec import VideoJobSpec, renderer_spec_json

    paragraph, title, _ = UNTITLED["zh"]
    spec = VideoJobSpec.model_validate({"source": {"markdown": paragraph}, "language": "zh"})
    path = tmp_path / "spec.json"
    path.write_text(renderer_spec_json(spec))
    job = resolve_job(None, None, RendererSettings(spec_file=path))
    assert job.storyboard.language == "zh"
    assert job.storyboard.scenes[0].visual.title == title
