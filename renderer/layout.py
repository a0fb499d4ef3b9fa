"""The one type scale, safe area and page flow every template lays out with, landscape or portrait.

Manim's frame is always 8 units tall (its width follows the picture's aspect: 14.2 units at
16:9, 4.5 at 9:16), and 72 font points make one unit. A size in the scale is chosen by the
height of its capital letters as a share of the frame height, the measure a viewer on a
phone notices: the smallest text anywhere (labels, captions, code) has capitals 4% of the
frame tall, body text more, headings and titles more again. Nothing is ever shrunk below
:data:`SMALLEST`: content that does not fit the safe area at the smallest size is split
into pages, shown one after another while the narration goes on.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from videojob.wide_characters import is_wide

FRAME_HEIGHT = 8.0  # scene units, whatever the pixel size
POINTS_PER_UNIT = 72
CAP_HEIGHT_EM = 0.729  # DejaVu Sans; the Noto families are within 2% of it
MIN_CAP_SHARE = 0.04  # the smallest capitals, as a share of the frame height


def size_for(cap_share: float) -> int:
    """The font size (points) whose capital letters are ``cap_share`` of the frame height."""
    return int(-(-cap_share * FRAME_HEIGHT / CAP_HEIGHT_EM * POINTS_PER_UNIT // 1))


def cap_share(font_size: float) -> float:
    """How tall ``font_size``'s capitals are, as a share of the frame height."""
    return font_size / POINTS_PER_UNIT * CAP_HEIGHT_EM / FRAME_HEIGHT


SMALLEST = size_for(MIN_CAP_SHARE)  # labels, captions, code, and anything shrunk to fit
# TeX's capital X at MathTex font size 1, in scene units (measured: Computer Modern through dvisvgm and
# Manim's scaling; tests/unit/renderer/test_equations_fit_the_frame.py measures it again with real TeX).
MATH_CAP_PER_POINT = 0.00709
SMALLEST_MATH = int(-(-MIN_CAP_SHARE * FRAME_HEIGHT / MATH_CAP_PER_POINT // 1))  # no equation is set smaller
LARGEST_MATH = int(0.1 * FRAME_HEIGHT / MATH_CAP_PER_POINT)  # a short equation, capitals a tenth of the frame
BODY = size_for(0.047)
HEADING = size_for(0.062)
TITLE = size_for(0.085)
LINE_PITCH_EM = 1.25  # baseline to baseline, in ems of the line's size


def em(size: float) -> float:
    return size / POINTS_PER_UNIT


def line_pitch(size: float) -> float:
    return em(size) * LINE_PITCH_EM


@dataclass(frozen=True)
class Layout:
    """The frame's safe area and the spacing between things, in scene units."""

    frame_width: float
    frame_height: float = FRAME_HEIGHT

    @classmethod
    def for_pixels(cls, width: int, height: int) -> Layout:
        return cls(FRAME_HEIGHT * width / height)

    @property
    def portrait(self) -> bool:
        return self.frame_width < self.frame_height

    @property
    def margin_x(self) -> float:
        return max(0.3, 0.045 * self.frame_width)

    @property
    def margin_y(self) -> float:
        return 0.05 * self.frame_height

    @property
    def left(self) -> float:
        return -self.frame_width / 2 + self.margin_x

    @property
    def right(self) -> float:
        return self.frame_width / 2 - self.margin_x

    @property
    def top(self) -> float:
        return self.frame_height / 2 - self.margin_y

    @property
    def bottom(self) -> float:
        return -self.frame_height / 2 + self.margin_y

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.top - self.bottom

    @property
    def gap(self) -> float:
        """Space between two blocks (bullets, events, a heading and what follows it)."""
        return 0.7 * em(BODY)

    def inside(self, box: Box, slack: float = 1e-3) -> bool:
        return (
            box.left >= self.left - slack
            and box.right <= self.right + slack
            and box.bottom >= self.bottom - slack
            and box.top <= self.top + slack
        )


@dataclass(frozen=True)
class Box:
    left: float
    right: float
    bottom: float
    top: float

    @classmethod
    def of(cls, mobject: Any) -> Box:
        return cls(
            float(mobject.get_left()[0]),
            float(mobject.get_right()[0]),
            float(mobject.get_bottom()[1]),
            float(mobject.get_top()[1]),
        )

    def overlaps(self, other: Box, slack: float = 1e-3) -> bool:
        return (
            self.left < other.right - slack
            and other.left < self.right - slack
            and self.bottom < other.top - slack
            and other.bottom < self.top - slack
        )


def is_right_to_left(text: str) -> bool:
    """True when the first strongly directional character is Arabic, Hebrew, Syriac...: the line reads
    from the right, so it is aligned to the right and its marker goes on the right."""
    for char in text:
        direction = unicodedata.bidirectional(char)
        if direction in ("R", "AL"):
            return True
        if direction == "L":
            return False
    return False


def estimated_width(text: str, size: float, bold: bool = False) -> float:
    """A generous estimate of ``text``'s width; :func:`wrap` measures again after drawing."""
    narrow = 0.66 if bold else 0.6
    return sum(1.0 if is_wide(c) else 0.95 if c in "mwMW" else narrow for c in text) * em(size)


def _words(text: str) -> list[str]:
    """Pieces a line may break between: words with their trailing space, and each wide character."""
    pieces: list[str] = []
    current = ""
    for char in text:
        if is_wide(char):
            if current:
                pieces.append(current)
            pieces.append(char)
            current = ""
        elif char == " ":
            current += char
            pieces.append(current)
            current = ""
        else:
            current += char
    if current:
        pieces.append(current)
    return pieces


def breaks_a_word(text: str, width: float, size: float, bold: bool = False) -> bool:
    """Whether some word of ``text`` is wider than ``width`` at ``size`` and would be cut."""
    return any(estimated_width(piece.strip(), size, bold) > width for piece in _words(text))


def wrap(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """``text`` broken into lines no wider than ``width`` (by the estimate), words kept whole when they fit."""
    lines: list[str] = []
    line = ""
    for piece in _words(" ".join(text.split())):
        if line and estimated_width((line + piece).rstrip(), size, bold) > width:
            lines.append(line.rstrip())
            line = ""
        while estimated_width(piece.rstrip(), size, bold) > width:  # a word longer than the line: cut it
            cut = max(1, len(piece) - 1)
            while cut > 1 and estimated_width(piece[:cut], size, bold) > width:
                cut -= 1
            lines.append(piece[:cut])
            piece = piece[cut:]
        line += piece
    if line.strip():
        lines.append(line.rstrip())
    return lines or [" "]


def estimated_height(text: str, width: float, size: float, bold: bool = False) -> float:
    """How tall ``text`` wrapped to ``width`` comes out, by the estimate: to choose sizes before drawing."""
    return (len(wrap(text, width, size, bold)) - 1) * line_pitch(size) + em(size)


@dataclass
class Part:
    """One thing on a page: shown with the page (``item`` None) or when the narrator reaches ``item``."""

    mobject: Any
    item: int | None = None


@dataclass
class Page:
    parts: list[Part] = field(default_factory=list)

    @property
    def mobjects(self) -> list[Any]:
        return [part.mobject for part in self.parts]


def flow(
    blocks: Sequence[tuple[int | None, list[Any]]],
    room: float,
    gap: float,
    height_of: Callable[[int | None, list[Any]], float],
) -> list[list[tuple[int | None, list[Any], bool]]]:
    """Blocks (each an item number and its lines) packed top to bottom into pages ``room`` tall.

    ``height_of(item, lines)`` says how tall some of a block's lines stand together. A block that
    does not fit under what a page already holds moves to the next page whole; one taller than a
    whole page is split between lines. Returns, page by page, each piece as (item, lines,
    continued), continued when it is not the start of its block, for the caller to assemble.
    """
    pages: list[list[tuple[int | None, list[Any], bool]]] = [[]]
    used = 0.0
    for item, lines in blocks:
        start, continued = 0, False
        while start < len(lines):
            spacing = gap if pages[-1] else 0.0
            left = room - used - spacing
            whole = height_of(item, lines[start:])
            if whole <= left:
                pages[-1].append((item, lines[start:], continued))
                used += spacing + whole
                break
            if pages[-1] and whole <= room:
                pages.append([])
                used = 0.0
                continue
            end = len(lines) - 1
            while end > start and height_of(item, lines[start:end]) > left:
                end -= 1
            if end == start:
                if pages[-1]:
                    pages.append([])
                    used = 0.0
                    continue
                end = start + 1  # one line taller than a page: the caller's check reports it
            pages[-1].append((item, lines[start:end], continued))
            pages.append([])
            used = 0.0
            start, continued = end, True
    return [page for page in pages if page]
