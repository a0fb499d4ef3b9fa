"""A person could read it: short lectures in English, Chinese and Arabic are rendered by the real CLI
(Manim, Pango, the Noto fonts, espeak-ng in the lecture's language), and tesseract reads each title and
subtitle back from the finished title card (the video's thumbnail, its last frame at full size).

Chinese characters once came out as empty boxes: the control shows the same OCR finds no Chinese in
boxes, so the check would fail if the fonts went missing. Tesseract's language data (eng, chi_sim, ara)
comes from hack/apt-packages.txt.
"""

from __future__ import annotations

import json
import re
import subprocess
import unicodedata
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont, ImageOps

LECTURES = {
    "en": ("eng", "Waves carry energy", "Sound and light"),
    "zh": ("chi_sim", "波的物理学", "声音和光"),
    "ar": ("ara", "مقدمة في الفيزياء", "الصوت والضوء"),
}


def ocr(picture: Path | Image.Image, language: str) -> str:
    """What tesseract reads in the picture, light text on a dark ground turned dark on light first."""
    image = Image.open(picture) if isinstance(picture, Path) else picture
    prepared = ImageOps.invert(image.convert("L"))
    source = Path(f"/tmp/ocr-{language}-{id(image)}.png")
    prepared.save(source)
    try:
        done = subprocess.run(
            ["tesseract", str(source), "-", "-l", language, "--psm", "6"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
    finally:
        source.unlink(missing_ok=True)
    return done.stdout


def normalised(text: str) -> str:
    """Letters only, Arabic letter variants folded (OCR reads hamza and alef forms loosely), no spaces:
    tesseract puts spaces between Chinese characters."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub("[إأآا]", "ا", text).replace("ى", "ي").replace("ة", "ه")
    return "".join(char for char in text if char.isalnum()).lower()


def render_title_card(render_cli, tmp_path: Path, language: str, title: str, subtitle: str) -> Path:
    storyboard = {
        "title": title,
        "theme": "physics",
        "language": language,
        "scenes": [
            {
                "narration": f"{title}. {subtitle}.",
                "visual": {"kind": "title_card", "title": title, "subtitle": subtitle},
            }
        ],
    }
    source = tmp_path / f"{language}.json"
    source.write_text(json.dumps(storyboard, ensure_ascii=False))
    out = tmp_path / f"out-{language}"
    run = render_cli(str(source), "--quality", "medium", "--cache", "off", "-o", f"file://{out}")
    assert run.returncode == 0, run.stderr
    return out / "thumbnail.png"


@pytest.mark.parametrize("language", sorted(LECTURES))
def test_the_title_and_subtitle_read_back_from_the_frame(language, render_cli, tmp_path):
    tesseract_language, title, subtitle = LECTURES[language]
    frame = render_title_card(render_cli, tmp_path, language, title, subtitle)
    read = ocr(frame, tesseract_language)
    for words in (title, subtitle):
        assert normalised(words) in normalised(read), f"{language}: {words!r} not read back; tesseract read {read!r}"


def test_the_check_finds_no_chinese_in_empty_boxes(tmp_path):
    # The control: Chinese drawn with a font that has no Han glyphs (DejaVu Sans, what the templates
    # used before) shows boxes, and the same OCR does not read the title from them.
    picture = Image.new("RGB", (1280, 720), "#0B1D33")
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", 96)
    ImageDraw.Draw(picture).text((200, 300), LECTURES["zh"][1], fill="#4FC3F7", font=font)
    assert normalised(LECTURES["zh"][1]) not in normalised(ocr(picture, "chi_sim"))


def test_a_chinese_lecture_without_a_title_is_titled_in_chinese(render_cli, tmp_path):
    # The renderer's own word for a lecture that has no title (it was the English "Lecture").
    lecture = tmp_path / "untitled.md"
    lecture.write_text("---\nlanguage: zh\ntheme: physics\n---\n\n波传递能量，而不传递物质。\n", encoding="utf-8")
    out = tmp_path / "out-untitled"
    run = render_cli(str(lecture), "--quality", "medium", "--cache", "off", "-o", f"file://{out}")
    assert run.returncode == 0, run.stderr
    read = ocr(out / "thumbnail.png", "chi_sim")
    assert normalised("讲座") in normalised(read), f"tesseract read {read!r}"
