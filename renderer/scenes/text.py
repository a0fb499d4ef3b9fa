"""Templates made of words: title card, bullets, equation, comparison, code, takeaways."""

from __future__ import annotations

from itertools import zip_longest

from manim import (
    DOWN,
    UP,
    Code,
    Create,
    Dot,
    Line,
    SurroundingRectangle,
    Text,
    VGroup,
    VMobject,
    Write,
)
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from videojob.renderer import layout as L
from videojob.renderer.layout import Box, Page, Part
from videojob.renderer.scenes.base import TemplateScene
from videojob.renderer.scenes.lists import Entry, ListScene
from videojob.renderer.themes import MONOSPACE


def _safe_box(scene: TemplateScene) -> Box:
    layout = scene.layout
    return Box(layout.left, layout.right, layout.bottom, layout.top)


class TitleCardScene(ListScene):
    def build(self) -> list[Page]:
        layout = self.layout
        title = self.fitted(
            self.visual.title,
            self.sizes_from(L.TITLE),
            layout.width,
            layout.height * 0.55,
            self.palette.accent,
            bold=True,
            centred=True,
        )
        half = min(layout.width * 0.3, 3.0)
        rule = Line((-half, 0, 0), (half, 0, 0), color=self.palette.secondary, stroke_width=4)
        parts: list[VMobject] = [title, rule]
        if self.visual.subtitle:
            room = layout.height - title.height - 2 * layout.gap
            parts.append(self.fitted(self.visual.subtitle, self.sizes_from(L.BODY), layout.width, room, centred=True))
        if VGroup(*parts).arrange(DOWN, buff=layout.gap).height <= layout.height:
            VGroup(*parts).move_to((0, (layout.top + layout.bottom) / 2, 0))
            return [Page([Part(part) for part in parts])]
        # Only the longest titles and subtitles in a narrow frame get here: they flow into pages.
        entries = [Entry(None, self.visual.title, self.palette.accent, bold=True, marked=False)]
        entries.append(Entry(0, self.visual.subtitle or " ", marked=False))
        return self.pages_of(entries, _safe_box(self), _bullet, largest=L.BODY)

    def compose(self) -> None:
        pages = self.build()
        if len(pages) > 1:
            self.present(pages, [self.visual.subtitle])
            return
        title, rule, *rest = pages[0].mobjects
        self.animate(Write(title), run_time=0.9)
        self.animate(Create(rule), *[self.appear(m, UP * 0.2) for m in rest], run_time=0.6)


def _bullet(_item: int | None, size: float) -> VMobject:
    return Dot(radius=0.3 * L.em(size))


class BulletListScene(ListScene):
    def build(self) -> list[Page]:
        area = _safe_box(self)
        entries = [Entry(i, text) for i, text in enumerate(self.visual.bullets)]
        heading = self.heading(self.visual.heading, area) if self.visual.heading else None
        if heading is not None and self.heading_fits(heading, area):
            area = Box(area.left, area.right, area.bottom, heading.get_bottom()[1] - self.layout.gap * 1.5)
        elif heading is not None:
            entries.insert(0, Entry(None, self.visual.heading, self.palette.accent, bold=True, marked=False))
            heading = None

        def marker(item: int | None, size: float) -> VMobject:
            return _bullet(item, size).set_color(self.palette.secondary)

        pages = self.pages_of(entries, area, marker)
        if heading is not None:
            for page in pages:
                page.parts.insert(0, Part(heading))
        return pages

    def compose(self) -> None:
        self.present(self.build(), list(self.visual.bullets))


class KeyTakeawaysScene(ListScene):
    """The points, numbered, framed once the last is up, under the heading the storyboard's language gives
    (videojob/frame_words.py; none for a language without one, rather than a heading in English)."""

    def build(self) -> list[Page]:
        area = _safe_box(self)
        heading = self.heading(self.visual.heading, area) if self.visual.heading else None
        entries = [Entry(i, text) for i, text in enumerate(self.visual.points)]
        if heading is not None and not self.heading_fits(heading, area):  # a storyboard's own, long heading
            entries.insert(0, Entry(None, self.visual.heading, self.palette.accent, bold=True, marked=False))
            heading = None
        inset = 0.2 if self.layout.portrait else 0.35  # the frame around the points: narrow in a narrow frame
        area = Box(
            area.left + inset,
            area.right - inset,
            area.bottom + inset,
            (heading.get_bottom()[1] - self.layout.gap if heading is not None else area.top) - inset,
        )

        def marker(item: int | None, size: float) -> VMobject:
            return Text(f"{(item or 0) + 1}.", font=MONOSPACE, font_size=size, color=self.palette.accent, weight="BOLD")

        pages = self.pages_of(entries, area, marker)
        rows = VGroup(*pages[-1].mobjects)
        if heading is not None:
            for page in pages:
                page.parts.insert(0, Part(heading))
        last = pages[-1]
        frame = SurroundingRectangle(rows, color=self.palette.muted, buff=inset * 0.8, corner_radius=0.15)
        last.parts.append(Part(frame, len(self.visual.points) - 1))  # drawn once the last point is up
        return pages

    def compose(self) -> None:
        self.present(self.build(), list(self.visual.points))


ITEMS_UNDER_HEADERS = (L.BODY + L.HEADING) // 2  # a column's items stay smaller than its header


class ComparisonScene(ListScene):
    def build(self) -> list[Page]:
        v, area = self.visual, _safe_box(self)
        left_entries = [Entry(i, text) for i, text in enumerate(v.left_items)]
        right_entries = [Entry(len(v.left_items) + i, text) for i, text in enumerate(v.right_items)]

        def marker(colour: str):
            return lambda item, size: _bullet(item, size).set_color(colour)

        if self.layout.portrait:  # one column: the left side's items, then the right side's
            entries = [
                Entry(None, v.left_title, self.palette.accent, bold=True, marked=False),
                *left_entries,
                Entry(None, v.right_title, self.palette.secondary, bold=True, marked=False),
                *right_entries,
            ]
            return self.pages_of(entries, area, marker(self.palette.muted), largest=ITEMS_UNDER_HEADERS)
        gutter = 0.8
        half = (area.right - area.left - gutter) / 2
        columns = []
        for title, entries, colour, x0 in (
            (v.left_title, left_entries, self.palette.accent, area.left),
            (v.right_title, right_entries, self.palette.secondary, area.right - half),
        ):
            column = Box(x0, x0 + half, area.bottom, area.top)
            header = self.heading(title, column).set_color(colour)
            below = Box(column.left, column.right, area.bottom, header.get_bottom()[1] - self.layout.gap)
            columns.append((header, below, entries, colour))
        top = min(below.top for _, below, _, _ in columns)
        pages_per_column = [
            self.pages_of(
                entries,
                Box(below.left, below.right, below.bottom, top),
                marker(colour),
                ITEMS_UNDER_HEADERS,
                centre=False,
            )
            for _, below, entries, colour in columns
        ]
        divider = Line((0, area.top, 0), (0, area.bottom, 0), color=self.palette.muted)
        divider.move_to(((area.left + area.right) / 2, (area.top + area.bottom) / 2, 0))
        pages = []
        for left, right in zip_longest(*pages_per_column, fillvalue=Page()):
            pages.append(Page([Part(columns[0][0]), Part(columns[1][0]), Part(divider), *left.parts, *right.parts]))
        return pages

    def compose(self) -> None:
        self.present(self.build(), [*self.visual.left_items, *self.visual.right_items])


def _lexer_name(language: str) -> str:
    try:
        get_lexer_by_name(language)
        return language
    except ClassNotFound:
        return "text"


def _wrap_code(code: str, columns: int) -> list[str]:
    """Code lines cut at ``columns``, the rest of a long line continued under it, indented."""
    rows = []
    for line in code.expandtabs(4).splitlines() or [" "]:
        while len(line) > columns:
            # After a space or punctuation when there is one late enough, never inside a name or a number.
            cut = max(line.rfind(mark, columns // 2, columns) for mark in " ,;([{=")
            cut = cut + 1 if cut > 0 else columns
            rows.append(line[:cut])
            line = "  " + line[cut:]
        rows.append(line)
    return rows


# Manim draws a listing as one Text on a fixed-size surface, and drops the glyphs of rows past its edge.
ROWS_PER_LISTING = 20


class CodeListingScene(TemplateScene):
    def build(self) -> list[Page]:
        layout = self.layout
        language = _lexer_name(self.visual.language)
        sizes = self.sizes_from(L.HEADING)
        for size in sizes:
            gutter = len(str(len(self.visual.code.splitlines()))) + 2  # the line numbers and their space
            # DejaVu Sans Mono's advance is 0.6 em; the window's padding takes about a unit.
            columns = max(8, int((layout.width - 1.0) / (0.6 * L.em(size))))
            too_wide = any(len(line) > columns - gutter for line in self.visual.code.expandtabs(4).splitlines())
            if size != sizes[-1] and (too_wide or len(self.visual.code.splitlines()) > ROWS_PER_LISTING):
                continue  # a smaller size shows every line whole: nothing drawn at this one
            if not too_wide:
                columns -= gutter  # numbered: every line whole beside its number
            while True:
                rows = _wrap_code(self.visual.code, columns)
                numbered = len(rows) == len(self.visual.code.splitlines())
                listing = self._listing(rows[:ROWS_PER_LISTING], language, size, numbered)
                if listing.width <= layout.width or columns == 8 or size != sizes[-1]:
                    break  # too wide above the smallest size: the next size, rather than lines cut here
                columns = max(8, columns - 2)
            fits = listing.height <= layout.height and listing.width <= layout.width
            if len(rows) <= ROWS_PER_LISTING and fits and (numbered or size == sizes[-1]):
                listing.move_to((0, (layout.top + layout.bottom) / 2, 0))
                return [Page([Part(listing, 0)])]  # the largest size at which it fits without cutting a line
        # Too long for one page even at the smallest size: as many rows a page as fit, measured once.
        first = self._listing(rows[:1], language, size, numbered)
        pitch = (listing.height - first.height) / max(1, min(len(rows), ROWS_PER_LISTING) - 1)
        per_page = min(ROWS_PER_LISTING, max(1, 1 + int((layout.height - first.height) / max(pitch, 1e-6))))
        pages = [
            self._listing(rows[start : start + per_page], language, size, numbered)
            for start in range(0, len(rows), per_page)
        ]
        for page in pages:
            page.move_to((0, (layout.top + layout.bottom) / 2, 0))
        return [Page([Part(page, index)]) for index, page in enumerate(pages)]

    def _listing(self, rows: list[str], language: str, size: float, numbered: bool) -> Code:
        return Code(
            code_string="\n".join(rows),
            language=language,
            formatter_style="monokai",
            background="window",
            add_line_numbers=numbered,
            paragraph_config={"font": MONOSPACE, "font_size": size},
        )

    def compose(self) -> None:
        pages = self.build()
        # Markers the narration never contains: the pages turn evenly through the speech.
        self.present(pages, [f"\0page {index}" for index in range(len(pages))])
