"""The equation template: one displayed equation, set on as many lines as it needs to stay readable.

TeX typesets the whole equation once, its pieces marked (:mod:`videojob.renderer.equation_breaks`
says where a line may break), so every piece keeps the spacing TeX gave it. The pieces are then
packed into lines no wider than the safe area at the largest size at which the lines also fit its
height, kept on the author's lines while that size is body text's or more: a short equation is set
large, a long one on several lines (continuation lines start
with their relation under the first line's, or indented), never smaller than
:data:`~videojob.renderer.layout.SMALLEST_MATH`, whose capitals are as tall as the smallest text's.
Lines that do not fit one frame at that size are shown in pages. A piece too wide for the frame
even alone on a line at that size (a long fraction, a wide matrix) cannot be shown readably: the
scene is refused, naming what to break (:class:`EquationTooWideError`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from manim import ORIGIN, UP, Circumscribe, MathTex, VGroup, VMobject, Write

from videojob.renderer import layout as L
from videojob.renderer.equation_breaks import Piece, lines_and_pieces
from videojob.renderer.layout import Box, Page, Part
from videojob.renderer.scenes.lists import Entry, ListScene

REFERENCE_SIZE = 48.0  # the MathTex font size TeX sets the pieces at; they are scaled from it
SIZE_STEPS = 12
# Down to this size an equation stays on the lines its author wrote (a² + b² = c² on one line of a
# portrait frame); below it, it is broken instead (its capitals as tall as body text's).
UNBROKEN_DOWN_TO = L.cap_share(L.BODY) * L.FRAME_HEIGHT / L.MATH_CAP_PER_POINT


class EquationTooWideError(ValueError):
    """Part of an equation that no line break can make narrow enough to read on this frame."""


class EquationLine(VGroup):
    """One line of the equation: its pieces as TeX placed them, at ``font_size`` (MathTex points)."""

    def __init__(self, parts: list[VMobject], font_size: float, latex: str):
        super().__init__(*parts)
        self.font_size = font_size
        self.latex = latex


@dataclass(frozen=True)
class _Measured:
    piece: Piece
    part: VMobject
    left: float  # ink box at the reference size, in the one row TeX set
    right: float
    bottom: float
    top: float
    forced: bool  # first piece of a line the author began with \\


@dataclass
class _Row:
    indent: float
    items: list[_Measured]


def _cap(size: float) -> float:
    return size * L.MATH_CAP_PER_POINT


class EquationScene(ListScene):
    def build(self) -> list[Page]:
        layout = self.layout
        caption = None
        if self.visual.caption:
            caption = self.fitted(
                self.visual.caption,
                self.sizes_from(L.BODY),
                layout.width,
                layout.height * 0.35,
                self.palette.muted,
                centred=True,
            )
        caption_pages: list[Page] = []
        if caption is not None and caption.height > layout.height * 0.35:
            # A caption too long to sit under the equation (the longest, in a portrait frame) follows it in pages.
            area = Box(layout.left, layout.right, layout.bottom, layout.top)
            entry = Entry(None, self.visual.caption, self.palette.muted, marked=False)
            caption_pages, caption = self.pages_of([entry], area, lambda _item, _size: VGroup(), L.BODY), None
        room = layout.height - (caption.height + layout.gap * 1.5 if caption is not None else 0.0)
        measured = self._typeset()
        rows, size = self._choose(measured, layout.width, room)
        lines = self._set_lines(rows, size)
        pages = self._equation_pages(lines, room)
        blocks = [VGroup(*page_lines) for page_lines in pages]
        # One place for the caption under every page: below the tallest page, the whole centred in the frame.
        tallest = max(block.height for block in blocks)
        below = caption.height + layout.gap * 1.5 if caption is not None else 0.0
        top = (layout.top + layout.bottom) / 2 + (tallest + below) / 2
        if caption is not None:
            caption.move_to((0, top - tallest - layout.gap * 1.5 - caption.height / 2, 0))
        result = []
        for number, block in enumerate(blocks):
            block.move_to((0, top - tallest / 2, 0))
            result.append(Page([Part(block, number)] + ([Part(caption)] if caption is not None else [])))
        for page in caption_pages:  # each turned to in its own share of the speech, like the equation's pages
            for part in page.parts:
                part.item = len(result)
            result.append(page)
        return result

    def _typeset(self) -> list[_Measured]:
        lines = lines_and_pieces(self.visual.latex)
        pieces = [piece for line in lines for piece in line]
        starts = {id(line[0]) for line in lines[1:]}
        tex = MathTex(*[piece.latex for piece in pieces], color=self.palette.text, font_size=REFERENCE_SIZE)
        parts = list(tex.submobjects)
        if len(parts) != len(pieces):  # Manim split a piece further ({{ }}): keep the equation whole
            pieces, parts, starts = [Piece(self.visual.latex, "start")], [tex], set()
        measured = []
        for piece, part in zip(pieces, parts, strict=True):
            if not part.has_points() and not part.family_members_with_points():
                continue  # nothing drawn (spacing): nothing to place
            measured.append(
                _Measured(
                    piece,
                    part,
                    float(part.get_left()[0]),
                    float(part.get_right()[0]),
                    float(part.get_bottom()[1]),
                    float(part.get_top()[1]),
                    id(piece) in starts,
                )
            )
        return measured or [_Measured(Piece(" ", "start"), tex, 0.0, 0.0, 0.0, 0.0, False)]

    def _choose(self, measured: list[_Measured], width: float, room: float) -> tuple[list[_Row], float]:
        """The lines at the largest size whose lines all fit ``width`` and stand within ``room``;
        at the smallest size (then in pages) when none does."""
        authors_lines = 1 + sum(item.forced for item in measured)

        def as_written(size: float) -> list[_Row] | None:
            rows = self._break_lines(measured, width, size)
            fits = rows is not None and len(rows) == authors_lines and self._lines_height(rows, size) <= room
            return rows if fits else None

        def broken(size: float) -> list[_Row] | None:
            rows = self._break_lines(measured, width, size)
            return rows if rows is not None and self._lines_height(rows, size) <= room else None

        # As the author broke it while that is still large enough to read at a glance, else broken further.
        for fits, smallest in ((as_written, UNBROKEN_DOWN_TO), (broken, float(L.SMALLEST_MATH))):
            found = _largest(fits, float(L.LARGEST_MATH), smallest)
            if found is not None:
                return found
        size = float(L.SMALLEST_MATH)
        rows = self._break_lines(measured, width, size)
        if rows is None:
            widest = max(measured, key=lambda m: m.right - m.left)
            raise EquationTooWideError(
                f"the part {_quoted(widest.piece.latex)} is too wide to read on one line of a "
                f"{'portrait' if self.layout.portrait else 'landscape'} frame even at the smallest size: break it "
                "with \\\\ or write it shorter (a line may break before =, + or -, never inside braces, "
                "\\frac or \\left...\\right)"
            )
        return rows, size

    def _continuation_indent(self, first_row: _Row, starts_with: Piece, size: float) -> float:
        """A continuation line's indent: its relation under the first line's, else two capitals in."""
        if starts_with.before == "relation":
            for item in first_row.items[1:]:
                if item.piece.before == "relation":
                    return (item.left - first_row.items[0].left) * size / REFERENCE_SIZE
        return 2 * _cap(size)

    def _break_lines(self, measured: list[_Measured], width: float, size: float) -> list[_Row] | None:
        """The pieces in lines no wider than ``width`` at ``size``, or None when one piece alone is wider."""
        scale = size / REFERENCE_SIZE
        rows: list[_Row] = []
        first_row: _Row | None = None
        for item in measured:
            if (item.right - item.left) * scale > width + 1e-6:
                return None
            if rows and not item.forced:
                row = rows[-1]
                if row.indent + (item.right - row.items[0].left) * scale <= width:
                    row.items.append(item)
                    continue
            if first_row is None or item.forced:
                first_row = _Row(0.0, [item])
                rows.append(first_row)
                continue
            indent = self._continuation_indent(first_row, item.piece, size)
            rows.append(_Row(indent if indent + (item.right - item.left) * scale <= width else 0.0, [item]))
        return rows

    def _lines_height(self, rows: list[_Row], size: float) -> float:
        scale = size / REFERENCE_SIZE
        tall = sum((max(m.top for m in row.items) - min(m.bottom for m in row.items)) * scale for row in rows)
        return tall + (len(rows) - 1) * self._line_gap(size)

    def _line_gap(self, size: float) -> float:
        return 0.9 * _cap(size)

    def _set_lines(self, rows: list[_Row], size: float) -> list[EquationLine]:
        """Each line's pieces scaled to ``size``, the lines one under the other, at their indents."""
        scale = size / REFERENCE_SIZE
        lines: list[EquationLine] = []
        y = 0.0
        for row in rows:
            for item in row.items:
                item.part.scale(scale, about_point=ORIGIN)
            line = EquationLine([item.part for item in row.items], size, " ".join(m.piece.latex for m in row.items))
            top = max(m.top for m in row.items) * scale
            line.shift((row.indent - row.items[0].left * scale, y - top, 0.0))
            lines.append(line)
            y = float(line.get_bottom()[1]) - self._line_gap(size)
        return lines

    def _equation_pages(self, lines: list[EquationLine], room: float) -> list[list[EquationLine]]:
        pages: list[list[EquationLine]] = [[]]
        top = lines[0].get_top()[1]
        for line in lines:
            if pages[-1] and top - line.get_bottom()[1] > room:
                pages.append([])
                top = line.get_top()[1]
            pages[-1].append(line)
        return pages

    def compose(self) -> None:
        pages = self.build()
        if len(pages) > 1:  # the pages turn evenly through the speech
            self.present(pages, [f"\0page {index}" for index in range(len(pages))])
            return
        block, *rest = pages[0].mobjects
        self.animate(Write(block), run_time=1.2)
        if rest:
            self.animate(self.appear(rest[0], UP * 0.2), run_time=0.4)
        self.hold_until(self.timing.speech_start + self.timing.speech_seconds * 0.5)
        self.animate(Circumscribe(block, color=self.palette.accent, buff=0.2), run_time=1.0)


def _largest(
    fits: Callable[[float], list[_Row] | None], largest: float, smallest: float
) -> tuple[list[_Row], float] | None:
    """The largest size from ``largest`` down to ``smallest`` at which ``fits(size)`` gives lines: found in
    steps, then narrowed between the last step that failed and the first that fitted (all arithmetic)."""
    sizes = [float(size) for size in np.geomspace(largest, smallest, SIZE_STEPS)]
    for index, size in enumerate(sizes):
        rows = fits(size)
        if rows is None:
            continue
        if index == 0:
            return rows, size
        low, high = size, sizes[index - 1]
        for _ in range(6):
            middle = (low + high) / 2
            bigger = fits(middle)
            if bigger is None:
                high = middle
            else:
                low, rows = middle, bigger
        return rows, low
    return None


def _quoted(latex: str, limit: int = 60) -> str:
    shown = " ".join(latex.split())
    return f'"{shown if len(shown) <= limit else shown[: limit - 1] + "…"}"'


__all__ = ["EquationLine", "EquationScene", "EquationTooWideError"]
