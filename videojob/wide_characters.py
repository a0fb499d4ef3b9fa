"""Which characters are wide (Han, kana, hangul, full-width forms): about one em, breakable anywhere.

Shared by the renderer's layout, which measures and breaks lines with it, and the Markdown
lecture parser, which ends a sentence with a full-width stop after such a character.
"""

from __future__ import annotations

import unicodedata


def is_wide(char: str) -> bool:
    """Han, kana, hangul and other full-width characters: about one em wide, breakable anywhere."""
    return unicodedata.east_asian_width(char) in ("W", "F")
