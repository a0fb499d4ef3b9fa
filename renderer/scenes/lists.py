"""Items under a heading, in pages: what bullets, takeaways, comparisons and crowded timelines share.

The items are set at the largest size of the scale at which they all fit the area on one
page (so three short bullets fill the screen and seven long ones still read); when even the
smallest size does not fit, the items flow into pages, a long item split between lines.
Every page starts at the top of the area; a single page is centred in it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from manim import LEFT, RIGHT, VGroup, VMobject

from videojob.renderer import layout as L
from videojob.renderer.layout import Box, Page, Part
from videojob.renderer.scenes.base import Paragraph, TemplateScene


@dataclass(frozen=True)
class Entry:
    """One item: its number in the narration's order (None: not narrated, shown with its page)."""

    item: int | None
    text: str
    color: str | None = None
    bold: bool = False
    marked: bool = True  # whether it gets the list's marker


Marker = Callable[[int | None, float], VMobject]
CLOSE_CALL = 1.2  # an item the estimate makes up to this much wider than its line is drawn to measure


class ListScene(TemplateScene):
    """A template made of a heading and items."""

    def heading(self, content: str, area: Box) -> Paragraph:
        """``content`` in the accent colour at the top of ``area``, centred, at most a third of it tall
        (or as short as it gets: see :meth:`heading_fits`)."""
        paragraph = self.fitted(
            content,
            self.sizes_from(L.HEADING),
            area.right - area.left,
            (area.top - area.bottom) / 3,
            self.palette.accent,
            bold=True,
            centred=True,
        )
        return paragraph.move_to(((area.left + area.right) / 2, area.top - paragraph.height / 2, 0.0))

    def heading_fits(self, heading: Paragraph, area: Box) -> bool:
        """Whether ``heading`` may stay at the top of every page: not when it takes more than a third of
        the area (the longest headings in a portrait frame), then it is the first thing in the flow."""
        return heading.height <= (area.top - area.bottom) / 3 + 1e-6

    def item_sizes(self, largest: float) -> list[float]:
        """Candidate sizes for items, largest first: above the body size when there is room."""
        return sorted({float(round(largest)), *self.sizes_from(L.BODY)}, reverse=True)

    def pages_of(
        self, entries: Sequence[Entry], area: Box, marker: Marker, largest: float = L.HEADING, centre: bool = True
    ) -> list[Page]:
        """``entries`` laid out in ``area``, page by page (a single page centred in it unless not ``centre``)."""
        width, room = area.right - area.left, area.top - area.bottom
        sizes = self.item_sizes(min(largest, L.HEADING))
        chosen = sizes[-1]
        for size in sizes:  # by the estimate, so that only the chosen size is drawn
            text_width = width - self._indent(marker, size)
            if any(L.breaks_a_word(e.text, text_width, size, e.bold) for e in entries):
                continue  # a smaller size keeps every word whole
            gaps = 0.6 * L.em(size) * (len(entries) - 1)
            if sum(L.estimated_height(e.text, text_width, size, e.bold) for e in entries) + gaps <= room:
                chosen = size
                break
        for size in sizes[sizes.index(chosen) :]:
            pieces, cut = self._flow(entries, size, width, room, marker)
            if not cut:
                break  # else a word came out wider than estimated and was cut: a smaller size keeps it whole
        return [self._place(page, area, centre=centre and len(pieces) == 1) for page in pieces]

    def line_count(self, entry: Entry, size: float, width: float) -> int:
        """How many lines ``entry`` takes at ``size`` in ``width``: one when its drawn line fits, though the
        (generous) estimate would wrap it; else as many as the estimate wraps it to."""
        lines = len(L.wrap(entry.text, width, size, entry.bold))
        return 1 if lines > 1 and self._one_line_fits(entry, size, width) else lines

    def paragraph(self, entry: Entry, size: float, width: float) -> Paragraph:
        """``entry`` at ``size`` in ``width``: on one line whenever its drawn line fits."""
        text = " ".join(entry.text.split())
        if self._one_line_fits(entry, size, width):
            return Paragraph([self._line(text, size, entry.color, entry.bold)], size, L.is_right_to_left(text))
        return self.lines(entry.text, size, width, entry.color, entry.bold)

    def _one_line_fits(self, entry: Entry, size: float, width: float) -> bool:
        """Whether ``entry`` drawn on one line is no wider than ``width``. Only a close call is drawn (to
        measure: a Text's width grows in proportion to its size, so once per entry)."""
        text = " ".join(entry.text.split())
        estimate = L.estimated_width(text, size, entry.bold)
        if estimate <= width or estimate > width * CLOSE_CALL:
            return estimate <= width
        key = (text, entry.bold)
        if key not in self._widths_per_point:
            self._widths_per_point[key] = self._line(text, L.BODY, None, entry.bold).width / L.BODY
        return self._widths_per_point[key] * size <= width * 0.99

    @property
    def _widths_per_point(self) -> dict[tuple[str, bool], float]:
        if not hasattr(self, "_measured"):
            self._measured: dict[tuple[str, bool], float] = {}
        return self._measured

    def _indent(self, marker: Marker, size: float) -> float:
        """How far an item's text starts from the list's edge: its marker and a space."""
        return marker(0, size).width + 0.35 * L.em(size)

    def _flow(
        self, entries: Sequence[Entry], size: float, width: float, room: float, marker: Marker
    ) -> tuple[list[list[tuple[int | None, _Row]]], bool]:
        """The entries in pages at ``size``, and whether some word had to be cut."""
        indent = self._indent(marker, size)
        by_item = {}
        blocks = []
        cut = False
        for number, entry in enumerate(entries):
            text_width = width - (indent if entry.marked else 0.0)
            paragraph = self.paragraph(entry, size, text_width)
            cut = cut or paragraph.cuts_a_word
            by_item[number] = (entry, paragraph.right_to_left)
            blocks.append((number, paragraph.lines))

        def make(number: int | None, lines: list, continued: bool) -> _Row:
            entry, right_to_left = by_item[number]  # type: ignore[index]
            paragraph = Paragraph(lines, size, right_to_left)
            row = _Row(paragraph, entry.item)
            if entry.marked:
                if not continued:  # the marker hangs outside the text, beside its first line
                    mark = marker(entry.item, size).move_to(lines[0].get_center())
                    mark.next_to(lines[0], RIGHT if right_to_left else LEFT, buff=0.35 * L.em(size))
                    row.add(mark)
                row.indent = indent
            row.right_to_left = right_to_left
            return row

        def height_of(number: int | None, lines: list) -> float:
            return Paragraph.height_of(lines, size)

        pages = [
            [(item, make(item, lines, continued)) for item, lines, continued in page]
            for page in L.flow(blocks, room, L.em(size) * 0.6, height_of)
        ]
        return pages, cut

    def _place(self, page: list[tuple[int | None, _Row]], area: Box, centre: bool) -> Page:
        y = area.top
        rows = [row for _, row in page]
        for row in rows:
            paragraph = row.paragraph
            if row.right_to_left:
                row.shift((area.right - row.indent - paragraph.get_right()[0], 0, 0))
            else:
                row.shift((area.left + row.indent - paragraph.get_left()[0], 0, 0))
            row.shift((0, y - row.get_top()[1], 0))
            y = row.get_bottom()[1] - L.em(paragraph.size) * 0.6
        if rows:
            group = VGroup(*rows)
            dx = (area.left + area.right) / 2 - group.get_center()[0]
            dy = (area.top + area.bottom) / 2 - group.get_center()[1] if centre else 0.0
            group.shift((dx, dy, 0))
        return Page([Part(row, row.item) for row in rows])


class _Row(VGroup):
    """One item's piece on a page: its lines and, on its first piece, its marker."""

    def __init__(self, paragraph: Paragraph, item: int | None):
        super().__init__(paragraph)
        self.paragraph = paragraph
        self.item = item
        self.indent = 0.0
        self.right_to_left = False


__all__ = ["Entry", "ListScene", "Marker"]
