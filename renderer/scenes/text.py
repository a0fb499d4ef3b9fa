"""Templates made of words: title card, bullets, equation, comparison, code, takeaways."""

from __future__ import annotations

from manim import (
    DOWN,
    LEFT,
    ORIGIN,
    RIGHT,
    UP,
    Circumscribe,
    Code,
    Create,
    Dot,
    Line,
    MathTex,
    SurroundingRectangle,
    VGroup,
    VMobject,
    Write,
)
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from videojob.renderer.scenes.base import USABLE_WIDTH, TemplateScene
from videojob.renderer.timing import reveal_times


class TitleCardScene(TemplateScene):
    def compose(self) -> None:
        title = self.text(self.visual.title, size=72, color=self.palette.accent, weight="BOLD")
        parts: list[VMobject] = [title]
        rule = Line(LEFT * 3, RIGHT * 3, color=self.palette.secondary, stroke_width=4)
        parts.append(rule)
        if self.visual.subtitle:
            parts.append(self.text(self.visual.subtitle, size=40, color=self.palette.text, width=11))
        VGroup(*parts).arrange(DOWN, buff=0.45).move_to(ORIGIN)
        self.animate(Write(title), run_time=0.9)
        self.animate(Create(rule), *[self.appear(part, UP * 0.2) for part in parts[2:]], run_time=0.6)


class _RevealedItems(TemplateScene):
    """Items that appear one by one as the narrator reaches them."""

    def reveal(self, items: list[str], rows: list, heading=None) -> None:
        if heading is not None:
            self.animate(self.appear(heading, DOWN * 0.2), run_time=0.4)
        for row, moment in zip(rows, reveal_times(self.narration, items, self.timing), strict=False):
            self.hold_until(moment)
            self.animate(self.appear(row, RIGHT * 0.3), run_time=0.45)

    def bullet_rows(self, items: list[str], marker_color: str, numbered: bool = False) -> VGroup:
        rows = []
        for index, item in enumerate(items, start=1):
            marker = (
                self.text(f"{index}.", size=44, color=marker_color, weight="BOLD")
                if numbered
                else Dot(radius=0.12, color=marker_color)
            )
            words = self.text(item, size=44, width=USABLE_WIDTH - 1.2)
            rows.append(VGroup(marker, words).arrange(RIGHT, buff=0.35, aligned_edge=UP))
            if not numbered:
                marker.align_to(words[0], UP).shift(DOWN * 0.12)
        return self.stack(rows)


class BulletListScene(_RevealedItems):
    def compose(self) -> None:
        heading = self.heading(self.visual.heading) if self.visual.heading else None
        rows = self.place_below(self.bullet_rows(self.visual.bullets, self.palette.secondary), heading)
        self.reveal(self.visual.bullets, list(rows), heading)


class KeyTakeawaysScene(_RevealedItems):
    def compose(self) -> None:
        heading = self.heading("Key takeaways")
        rows = self.place_below(
            self.bullet_rows(self.visual.points, self.palette.accent, numbered=True), heading, gap=0.8
        )
        frame = SurroundingRectangle(rows, color=self.palette.muted, buff=0.4, corner_radius=0.15)
        self.reveal(self.visual.points, list(rows), heading)
        self.animate(Create(frame), run_time=0.5)


class EquationScene(TemplateScene):
    def compose(self) -> None:
        equation = MathTex(self.visual.latex, color=self.palette.text, font_size=120)
        if equation.width > USABLE_WIDTH:
            equation.scale_to_fit_width(USABLE_WIDTH)
        group: list[VMobject] = [equation]
        if self.visual.caption:
            group.append(self.text(self.visual.caption, size=38, color=self.palette.muted))
        VGroup(*group).arrange(DOWN, buff=0.6).move_to(ORIGIN)
        self.animate(Write(equation), run_time=1.2)
        if len(group) > 1:
            self.animate(self.appear(group[1], UP * 0.2), run_time=0.4)
        self.hold_until(self.timing.speech_start + self.timing.speech_seconds * 0.5)
        self.animate(Circumscribe(equation, color=self.palette.accent, buff=0.2), run_time=1.0)


class ComparisonScene(_RevealedItems):
    def compose(self) -> None:
        columns = []
        for title, items, colour in (
            (self.visual.left_title, self.visual.left_items, self.palette.accent),
            (self.visual.right_title, self.visual.right_items, self.palette.secondary),
        ):
            header = self.text(title, size=48, color=colour, weight="BOLD", width=5.6)
            rows = VGroup(*[self.text(f"• {item}", size=36, width=5.6) for item in items])
            rows.arrange(DOWN, aligned_edge=LEFT, buff=0.3)
            columns.append((header, rows))
        left, right = (VGroup(header, rows).arrange(DOWN, buff=0.5) for header, rows in columns)
        left.move_to(LEFT * 3.4)
        right.move_to(RIGHT * 3.4)
        VGroup(left, right).to_edge(UP, buff=0.8)
        divider = Line(UP * 3.2, DOWN * 3.2, color=self.palette.muted)
        self.animate(
            self.appear(columns[0][0], DOWN * 0.2),
            self.appear(columns[1][0], DOWN * 0.2),
            Create(divider),
            run_time=0.6,
        )
        items = list(self.visual.left_items) + list(self.visual.right_items)
        self.reveal(items, list(columns[0][1]) + list(columns[1][1]))


def _lexer_name(language: str) -> str:
    try:
        get_lexer_by_name(language)
        return language
    except ClassNotFound:
        return "text"


class CodeListingScene(TemplateScene):
    def compose(self) -> None:
        listing = Code(
            code_string=self.visual.code,
            language=_lexer_name(self.visual.language),
            formatter_style="monokai",
            background="window",
            paragraph_config={"font": "DejaVu Sans Mono"},
        )
        listing.scale(min(USABLE_WIDTH / listing.width, 6.8 / listing.height, 2.2))
        listing.move_to(ORIGIN)
        self.animate(self.appear(listing, UP * 0.3), run_time=0.8)
