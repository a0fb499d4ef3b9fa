"""Templates made of words: title card, bullets, comparison, takeaways (the code listing: scenes/code.py)."""

from __future__ import annotations

from itertools import zip_longest

from manim import (
    DOWN,
    UP,
    Create,
    Dot,
    Line,
    SurroundingRectangle,
    Text,
    VGroup,
    VMobject,
    Write,
)

from videojob.renderer import layout as L
from videojob.renderer.layout import Box, Page, Part
from videojob.renderer.scenes.base import TemplateScene
from videojob.renderer.scenes.code import CodeListingScene
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
        size = self._one_page_size(columns, top, marker)
        page = self._one_page(columns, top, size, marker) if size is not None else None
        if page is not None:
            return [page]
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

    def _one_page_size(self, columns, top: float, marker) -> float | None:
        """The largest item size at which both columns fit one page, no larger than the headers and no
        item on more lines than at the body size (a larger size that only wraps more reads worse);
        None when even the body size needs pages (then the items flow and shrink like any list's)."""
        headers = min(header.size for header, _, _, _ in columns)
        sizes = sorted({*self.sizes_from(L.HEADING), float(L.BODY)}, reverse=True)
        for size in [s for s in sizes if L.BODY <= s <= headers] or [float(L.BODY)]:
            fits = True
            for _, below, entries, colour in columns:
                text_width = below.right - below.left - self._indent(marker(colour), size)
                counts = [self.line_count(e, size, text_width) for e in entries]
                if size > L.BODY and any(
                    count > self.line_count(e, L.BODY, below.right - below.left - self._indent(marker(colour), L.BODY))
                    for e, count in zip(entries, counts, strict=True)
                ):
                    fits = False
                    break
                tall = sum((n - 1) * L.line_pitch(size) + L.em(size) for n in counts)
                if tall + 0.6 * L.em(size) * (len(entries) - 1) > top - below.bottom:
                    fits = False
                    break
            if fits:
                return size
        return None

    def _one_page(self, columns, top: float, size: float, marker) -> Page | None:
        """Both columns at ``size``, the block (headers, items, the divider between them) centred in the
        safe area; None when the drawn items came out taller than estimated and need pages after all."""
        area, rows, bottom = _safe_box(self), [], top
        for _, below, entries, colour in columns:
            width, room = below.right - below.left, top - below.bottom
            pieces, _ = self._flow(entries, size, width, room, marker(colour))
            if len(pieces) != 1:
                return None
            placed = self._place(pieces[0], Box(below.left, below.right, below.bottom, top), centre=False)
            rows += placed.parts
            bottom = min(bottom, *(part.mobject.get_bottom()[1] for part in placed.parts))
        headers = [header for header, _, _, _ in columns]
        block_top = max(header.get_top()[1] for header in headers)
        divider = Line((0, block_top, 0), (0, bottom, 0), color=self.palette.muted)
        divider.move_to(((area.left + area.right) / 2, (block_top + bottom) / 2, 0))
        dy = (area.top + area.bottom) / 2 - (block_top + bottom) / 2
        for mobject in [*headers, divider, *(part.mobject for part in rows)]:
            mobject.shift((0, dy, 0))
        return Page([Part(headers[0]), Part(headers[1]), Part(divider), *rows])

    def compose(self) -> None:
        self.present(self.build(), [*self.visual.left_items, *self.visual.right_items])


__all__ = [
    "BulletListScene",
    "CodeListingScene",
    "ComparisonScene",
    "KeyTakeawaysScene",
    "TitleCardScene",
]
