"""What text is drawn with: the font families for every script, and colour contrast a viewer can read.

Pango takes a comma-separated list of families and falls back along it glyph by glyph, so a
line mixing English, Chinese and an emoji draws every character. The list starts with the
family that suits the line's own script (Arabic letters look best in Noto Sans Arabic, Han
characters in Noto Sans CJK), so that script's punctuation and digits match it.

The contrast ratio is WCAG 2's: the relative luminance of the lighter colour plus 0.05 over
that of the darker plus 0.05; 4.5:1 is the threshold for normal-sized text.
"""

from __future__ import annotations

import unicodedata

LATIN = "DejaVu Sans"
MONOSPACE = "DejaVu Sans Mono"
FALLBACKS = (
    "Noto Sans",
    "Noto Sans CJK SC",
    "Noto Sans Arabic",
    "Noto Sans Hebrew",
    "Noto Sans Devanagari",
    "Noto Sans Thai",
    "Symbola",  # emoji as outlines (see text_presentation)
)
# Not in the list: Noto Color Emoji. Its glyphs are bitmaps, which Manim's SVG import drops, and with it
# in a family list fontconfig hands it the digits (it has keycap digits), so every number vanished.
# Fontconfig still prefers it for any emoji Pango is asked to draw in colour, so text_presentation asks
# for the text (outline) form, which Symbola has.
TEXT_PRESENTATION = "\ufe0e"  # variation selector 15: draw the preceding character as text, not as a picture
EMOJI_PRESENTATION = "\ufe0f"
_EMOJI_RANGES = ((0x2600, 0x27BF), (0x2B00, 0x2BFF), (0x1F000, 0x1FAFF))
_FIRST_FOR_SCRIPT = {  # the start of a Unicode character name: the family to put first
    "ARABIC": "Noto Sans Arabic",
    "HEBREW": "Noto Sans Hebrew",
    "DEVANAGARI": "Noto Sans Devanagari",
    "CJK": "Noto Sans CJK SC",
    "HIRAGANA": "Noto Sans CJK JP",
    "KATAKANA": "Noto Sans CJK JP",
    "HANGUL": "Noto Sans CJK KR",
}
MIN_CONTRAST = 4.5


def script_family(text: str) -> str | None:
    """The family suited to the first character of ``text`` outside Latin, if it has one."""
    for char in text:
        if ord(char) < 0x250:
            continue
        name = unicodedata.name(char, "")
        for prefix, family in _FIRST_FOR_SCRIPT.items():
            if name.startswith(prefix):
                return family
    return None


def _is_emoji(char: str) -> bool:
    return any(low <= ord(char) <= high for low, high in _EMOJI_RANGES)


def text_presentation(text: str) -> str:
    """``text`` with every emoji asked for in its text form, so that it is drawn (as an outline) at all."""
    out: list[str] = []
    for index, char in enumerate(text):
        if char == EMOJI_PRESENTATION and index and _is_emoji(text[index - 1]):
            continue  # replaced by the text selector just added after the emoji
        out.append(char)
        if _is_emoji(char) and text[index + 1 : index + 2] != TEXT_PRESENTATION:
            out.append(TEXT_PRESENTATION)
    return "".join(out)


def font_families(text: str) -> str:
    """The Pango family list to draw ``text`` with."""
    first = script_family(text)
    families = [first] if first else []
    families += [LATIN, *(family for family in FALLBACKS if family != first)]
    return ", ".join(families)


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a ``#RRGGBB`` colour."""
    red, green, blue = (int(colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(red) + 0.7152 * _channel(green) + 0.0722 * _channel(blue)


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio, 1 (none) to 21 (black on white)."""
    lighter, darker = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
