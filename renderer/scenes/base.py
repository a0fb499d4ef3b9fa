"""What every template shares: the theme's colours, legible text laid out in pages, and a clock.

A template first lays out its picture (:meth:`TemplateScene.build`: pages of mobjects inside
the frame's safe area, text at the sizes of :mod:`videojob.renderer.layout`, nothing drawn
yet), then animates it against the scene's timing (when speech starts, how long it lasts,
when each item should appear). The base class keeps track of elapsed time in whole frames
and holds the last frame until the scene's planned duration, so the scene lasts exactly as
long as its narration needs.

Text is drawn one line per Text mobject, wrapped here, so that every line is measured, no
line is ever shrunk below the smallest size, and a right-to-left line is aligned to the
right (Pango lays out each line's characters in their reading order).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

import numpy as np
from manim import DOWN, LEFT, RIGHT, FadeOut, Scene, Text, UpdateFromAlphaFunc, VGroup, config, smooth

from videojob.renderer import layout as L
from videojob.renderer.layout import Layout, Page
from videojob.renderer.themes import font_families, text_presentation
from videojob.renderer.timing import SceneTiming, reveal_times
from videojob.storyboard import Palette

FINAL_HOLD = 0.5  # seconds the finished picture stays up, however long the animations ran
PAGE_TURN = 0.35  # seconds the previous page takes to fade out


class Paragraph(VGroup):
    """Lines of text at one size, one under the other at the scale's line pitch."""

    def __init__(self, lines: Sequence[Text], size: float, right_to_left: bool = False, centred: bool = False):
        super().__init__(*lines)
        self.size = size
        self.right_to_left = right_to_left
        self.cuts_a_word = False  # set when its words came out wider than estimated and one had to be cut
        pitch = L.line_pitch(size)
        for index, line in enumerate(lines):
            line.move_to((0.0, -index * pitch, 0.0))
            if not centred:
                line.align_to((0.0, 0.0, 0.0), RIGHT if right_to_left else LEFT)

    @property
    def lines(self) -> list[Text]:
        return list(self.submobjects)  # type: ignore[arg-type]

    @staticmethod
    def height_of(lines: Sequence[Text], size: float) -> float:
        """How tall these lines stand as a paragraph, without placing them (each sits centred on its pitch)."""
        return (len(lines) - 1) * L.line_pitch(size) + (lines[0].height + lines[-1].height) / 2


class TemplateScene(Scene, abc.ABC):
    """A scene drawn from one storyboard visual; subclasses implement ``build`` and ``compose``."""

    def __init__(self, visual: Any, narration: str, palette: Palette, timing: SceneTiming, **kwargs: Any):
        super().__init__(**kwargs)
        self.visual = visual
        self.narration = narration
        self.palette = palette
        self.timing = timing
        self.elapsed = 0.0
        self.layout = Layout(config.frame_width, config.frame_height)

    def construct(self) -> None:
        self.camera.background_color = self.palette.background  # type: ignore[union-attr]  # Cairo renderer's Camera; OpenGL is never used
        self.compose()
        self.hold_until(max(self.timing.duration, self.elapsed + FINAL_HOLD))

    @abc.abstractmethod
    def build(self) -> list[Page]:
        """The picture laid out, page by page, without drawing a frame (the layout tests call this)."""

    @abc.abstractmethod
    def compose(self) -> None:
        """Animate what ``build`` laid out."""

    # The clock.

    def whole_frames(self, seconds: float) -> float:
        return max(1, round(seconds * self.timing.fps)) / self.timing.fps

    def animate(self, *animations: Any, run_time: float = 0.6) -> None:
        run_time = self.whole_frames(run_time)
        self.play(*animations, run_time=run_time)
        self.elapsed += run_time

    def hold_until(self, moment: float) -> None:
        """Keep the current frame until ``moment`` seconds into the scene."""
        frames = round((moment - self.elapsed) * self.timing.fps)
        if frames > 0:
            self.wait(frames / self.timing.fps)
            self.elapsed += frames / self.timing.fps

    def appear(self, mobject: Any, shift: Any) -> UpdateFromAlphaFunc:
        """Fade in while sliding by ``shift``, like FadeIn, without FadeIn's two deep copies of the
        mobject (a line of Text is hundreds of glyph paths; copying it costs more than drawing it)."""
        end = mobject.get_center().copy()
        # Each part back to its own opacity: a frame's fill stays clear, a shape's stays translucent.
        family = [(m, m.get_fill_opacity(), m.get_stroke_opacity()) for m in mobject.family_members_with_points()]
        mobject.set_opacity(0)

        def update(moving: Any, alpha: float) -> None:
            moving.move_to(end - shift * (1 - alpha))
            for part, fill, stroke in family:
                part.set_fill(opacity=fill * alpha, family=False)
                part.set_stroke(opacity=stroke * alpha, family=False)

        return UpdateFromAlphaFunc(mobject, update, rate_func=smooth)

    def present(self, pages: list[Page], spoken: list[str]) -> None:
        """Show ``pages`` in turn: a page's fixed parts with it, each item as the narrator reaches
        ``spoken[item]``; the previous page fades out just before the next one's first item is due."""
        times = reveal_times(self.narration, spoken, self.timing) if spoken else []
        on_screen: list[Any] = []
        for page in pages:
            due = [times[part.item] for part in page.parts if part.item is not None and part.item < len(times)]
            leaving = [mobject for mobject in on_screen if all(mobject is not m for m in page.mobjects)]
            if leaving:
                self.hold_until(min(due, default=self.elapsed) - PAGE_TURN)
                self.animate(*[FadeOut(mobject) for mobject in leaving], run_time=PAGE_TURN)
                self.remove(*leaving)
                on_screen = [m for m in on_screen if all(m is not gone for gone in leaving)]
            fixed = [p.mobject for p in page.parts if p.item is None and all(p.mobject is not m for m in on_screen)]
            if fixed:
                self.animate(*[self.appear(mobject, DOWN * 0.2) for mobject in fixed], run_time=0.4)
                on_screen += fixed
            for part in page.parts:
                if part.item is None:
                    continue
                if part.item < len(times):
                    self.hold_until(times[part.item])
                self.animate(self.appear(part.mobject, RIGHT * 0.3), run_time=0.45)
                on_screen.append(part.mobject)

    # Text.

    def lines(
        self,
        content: str,
        size: float,
        width: float,
        color: str | None = None,
        bold: bool = False,
        centred: bool = False,
    ) -> Paragraph:
        """``content`` wrapped to ``width`` at ``size``: measured after drawing, and wrapped tighter
        rather than shrunk when a line came out wider than the estimate."""
        budget = width
        for _ in range(4):
            drawn = [self._line(text, size, color, bold) for text in L.wrap(content, budget, size, bold)]
            widest = max(line.width for line in drawn)
            if widest <= width:
                break
            budget *= min(0.95, width / widest)
        paragraph = Paragraph(drawn, size, L.is_right_to_left(content), centred)
        # Wrapped tighter than the estimate, it cut a word the estimate kept whole (not one longer than a line).
        paragraph.cuts_a_word = L.breaks_a_word(content, budget, size, bold) and not L.breaks_a_word(
            content, width, size, bold
        )
        return paragraph

    def _line(self, text: str, size: float, color: str | None, bold: bool) -> Text:
        if L.is_right_to_left(text):
            # A left-to-right mark first: Manim's Text loses a short line whose paragraph starts right-to-left
            # (Pango sets it against the right edge of a surface Manim then crops). The words still read
            # right to left; the line is aligned right by Paragraph.
            text = "\u200e" + text
        text = text_presentation(text)
        return Text(
            text,
            font=font_families(text),
            font_size=size,
            color=color or self.palette.text,
            weight="BOLD" if bold else "NORMAL",
            warn_missing_font=False,  # a family list, which Pango resolves glyph by glyph
        )

    def fitted(
        self,
        content: str,
        sizes: Sequence[float],
        width: float,
        height: float,
        color: str | None = None,
        bold: bool = False,
        centred: bool = False,
    ) -> Paragraph:
        """The first of ``sizes`` (largest first) at which ``content`` fits ``width`` by ``height``;
        the last one (never below the smallest size) when none does."""
        chosen = sizes[-1]
        for size in sizes:  # chosen by the estimate, so that only one size is drawn
            if L.breaks_a_word(content, width, size, bold):
                continue  # a smaller size keeps every word whole
            if L.estimated_height(content, width, size, bold) <= height:
                chosen = size
                break
        paragraph = self.lines(content, chosen, width, color, bold, centred)
        for smaller in sizes[list(sizes).index(chosen) + 1 :]:
            if not paragraph.cuts_a_word:
                break
            paragraph = self.lines(content, smaller, width, color, bold, centred)  # wider than estimated: smaller
        return paragraph

    def sizes_from(self, preferred: float) -> list[float]:
        """``preferred`` down to the smallest size, in a few steps."""
        steps = np.linspace(preferred, L.SMALLEST, 4) if preferred > L.SMALLEST else [L.SMALLEST]
        return [float(round(size)) for size in steps]
