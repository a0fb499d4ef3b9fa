"""What every template shares: the theme's colours, text that fits, and a clock.

A template describes its animations against the scene's timing (when speech
starts, how long it lasts, when each item should appear); the base class keeps
track of elapsed time in whole frames and holds the last frame until the scene's
planned duration, so the scene lasts exactly as long as its narration needs.
"""

from __future__ import annotations

import abc
import textwrap
from typing import Any

from manim import DOWN, LEFT, UP, Scene, Text, UpdateFromAlphaFunc, VGroup, smooth

from videojob.renderer.timing import SceneTiming
from videojob.storyboard import Palette

FONT = "DejaVu Sans"
USABLE_WIDTH = 12.4  # of the 14.2 scene units Manim's frame spans at any pixel size
FRAME_BOTTOM = -3.6
FINAL_HOLD = 0.5  # seconds the finished picture stays up, however long the animations ran


class TemplateScene(Scene, abc.ABC):
    """A scene drawn from one storyboard visual; subclasses implement ``compose``."""

    def __init__(self, visual: Any, narration: str, palette: Palette, timing: SceneTiming, **kwargs: Any):
        super().__init__(**kwargs)
        self.visual = visual
        self.narration = narration
        self.palette = palette
        self.timing = timing
        self.elapsed = 0.0

    def construct(self) -> None:
        self.camera.background_color = self.palette.background  # type: ignore[union-attr]  # Cairo renderer's Camera; OpenGL is never used
        self.compose()
        self.hold_until(max(self.timing.duration, self.elapsed + FINAL_HOLD))

    @abc.abstractmethod
    def compose(self) -> None:
        """Draw the visual; each catalogue template defines it."""

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
        mobject.set_opacity(0)

        def update(moving: Any, alpha: float) -> None:
            moving.move_to(end - shift * (1 - alpha))
            moving.set_opacity(alpha)

        return UpdateFromAlphaFunc(mobject, update, rate_func=smooth)

    def text(
        self,
        content: str,
        size: float = 34,
        color: str | None = None,
        width: float = USABLE_WIDTH,
        weight: str = "NORMAL",
    ) -> Text:
        """Text wrapped to ``width`` scene units, shrunk only if a single word is still too wide."""
        chars_per_line = max(12, int(width / (size * 0.0048)))  # DejaVu Sans averages ~0.004 units per char per pt
        wrapped = "\n".join(textwrap.wrap(content, chars_per_line)) or " "
        mobject = Text(
            wrapped, font=FONT, font_size=size, color=color or self.palette.text, weight=weight, line_spacing=0.9
        )
        if mobject.width > width:
            mobject.scale_to_fit_width(width)
        return mobject

    def heading(self, content: str) -> Text:
        return self.text(content, size=56, color=self.palette.accent, weight="BOLD").to_edge(UP, buff=0.6)

    def stack(self, items: list[Any], spacing: float = 0.35) -> VGroup:
        return VGroup(*items).arrange(DOWN, aligned_edge=LEFT, buff=spacing)

    def place_below(self, group: Any, above: Any | None, gap: float = 0.5) -> Any:
        """Centre ``group`` in the space under ``above`` (or the whole frame), shrinking it to fit."""
        top = (above.get_bottom()[1] - gap) if above is not None else 3.6
        room = top - FRAME_BOTTOM
        if group.height > room:
            group.scale_to_fit_height(room)
        if group.width > USABLE_WIDTH:
            group.scale_to_fit_width(USABLE_WIDTH)
        return group.move_to([0, (top + FRAME_BOTTOM) / 2, 0])
