"""Templates that draw: function plot and timeline (the labelled diagram has its own module, diagram.py)."""

from __future__ import annotations

import itertools

import numpy as np
from manim import (
    DOWN,
    UP,
    Create,
    Dot,
    Line,
    VGroup,
    VMobject,
)

from videojob.expression import evaluate
from videojob.renderer import layout as L
from videojob.renderer.layout import Box, Page, Part
from videojob.renderer.scenes.base import TemplateScene
from videojob.renderer.scenes.diagram_canvas import clamp
from videojob.renderer.scenes.lists import Entry, ListScene

PLOT_SAMPLES = 400


def plot_ranges(expression: str, x_min: float, x_max: float, y_min: float | None, y_max: float | None):
    """Samples of the curve and a y-range that shows it (robust to poles such as 1/x)."""
    xs = np.linspace(x_min, x_max, PLOT_SAMPLES)
    ys = evaluate(expression, xs)
    if y_min is None or y_max is None:
        finite = ys[np.isfinite(ys)]
        if finite.size == 0:
            y_min, y_max = -1.0, 1.0
        else:
            y_min, y_max = (float(v) for v in np.percentile(finite, [2, 98]))
            if y_max - y_min < 1e-9 * max(1.0, abs(y_min)):
                y_min, y_max = y_min - max(1.0, abs(y_min) * 0.1), y_max + max(1.0, abs(y_max) * 0.1)
            margin = (y_max - y_min) * 0.1
            y_min, y_max = y_min - margin, y_max + margin
    return xs, ys, y_min, y_max


def _nice_step(span: float) -> float:
    raw = span / 6
    magnitude = 10 ** np.floor(np.log10(raw))
    return float(min((m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw), default=raw))


class FunctionPlotScene(TemplateScene):
    def build(self) -> list[Page]:
        v, layout = self.visual, self.layout
        xs, ys, y_min, y_max = plot_ranges(v.expression, v.x_min, v.x_max, v.y_min, v.y_max)
        label = self.fitted(
            v.label or f"y = {v.expression}",
            self.sizes_from(L.HEADING),
            layout.width,
            layout.height * 0.25,
            self.palette.secondary,
            centred=True,
        )
        label.move_to((0, layout.top - label.height / 2, 0))
        room = label.get_bottom()[1] - layout.gap - layout.bottom
        box = Box(layout.left, layout.right, layout.bottom, layout.bottom + room)

        def point(x: float, y: float) -> tuple[float, float, float]:
            """A point of the graph in the box below the label (computed here, not by Manim's Axes, whose
            floating-point tick steps misbehave at ranges like 1e5 to 1e5 + 1e-6)."""
            u, w = (x - v.x_min) / (v.x_max - v.x_min), (y - y_min) / (y_max - y_min)
            return box.left + u * (box.right - box.left), box.bottom + w * (box.top - box.bottom), 0.0

        # The axes cross at zero when zero is in view, else they run along the edges.
        x0, y0 = float(np.clip(0.0, v.x_min, v.x_max)), float(np.clip(0.0, y_min, y_max))
        colour = self.palette.muted
        axes = VGroup(
            Line(point(v.x_min, y0), point(v.x_max, y0), color=colour, stroke_width=3),
            Line(point(x0, y_min), point(x0, y_max), color=colour, stroke_width=3),
        )
        curve = VGroup()
        visible = np.isfinite(ys) & (ys >= y_min) & (ys <= y_max)
        # Draw each run of visible samples separately, so poles and gaps are not bridged.
        edges = np.flatnonzero(np.diff(np.concatenate([[0], visible.astype(int), [0]])))
        for start, stop in zip(edges[::2], edges[1::2], strict=False):
            if stop - start >= 2:
                points = [point(x, y) for x, y in zip(xs[start:stop], ys[start:stop], strict=True)]
                curve.add(VMobject(color=self.palette.accent, stroke_width=5).set_points_as_corners(points))
        return [Page([Part(label), Part(axes), Part(curve)])]

    def compose(self) -> None:
        label, axes, curve = self.build()[0].mobjects
        self.animate(Create(axes), self.appear(label, DOWN * 0.2), run_time=0.8)
        draw_for = max(1.0, min(3.0, self.timing.speech_seconds * 0.5))
        if curve.submobjects:
            self.animate(Create(curve), run_time=draw_for)


class TimelineScene(ListScene):
    """Events along a horizontal line when their cards fit beside each other, else down a vertical
    line (a portrait frame, or many long events), in pages when they need more than one."""

    def build(self) -> list[Page]:
        if not self.layout.portrait:
            across = self._across()
            if across is not None:
                return across
        return self._down()

    def _across(self) -> list[Page] | None:
        layout, events = self.layout, self.visual.events
        slot = layout.width / len(events)
        card_width = min(2 * slot - 0.6, layout.width * 0.45)
        room = layout.height / 2 - 0.35
        line = Line((layout.left, 0, 0), (layout.right, 0, 0), color=self.palette.muted, stroke_width=4)
        for size in self.sizes_from(L.BODY):
            marks = []
            for index, event in enumerate(events):
                x = layout.left + slot * (index + 0.5)
                dot = Dot((x, 0.0, 0.0), radius=0.1, color=self.palette.accent)
                when = self.lines(event.when, size, card_width, self.palette.secondary, bold=True, centred=True)
                label = self.lines(event.label, size, card_width, centred=True)
                card = VGroup(when, label).arrange(DOWN, buff=0.12)
                if card.height > room:
                    break
                card.next_to(dot, UP if index % 2 == 0 else DOWN, buff=0.35)
                clamp(card, layout)
                marks.append(VGroup(dot, card))
            else:
                cards = [Box.of(mark[1]) for mark in marks]
                if any(one.overlaps(other) for one, other in itertools.combinations(cards, 2)):
                    continue  # an end card pushed inside the frame met its neighbour: smaller, or down the page
                return [Page([Part(line)] + [Part(mark, index) for index, mark in enumerate(marks)])]
        return None

    def _down(self) -> list[Page]:
        layout = self.layout
        area = Box(layout.left + 0.5, layout.right, layout.bottom, layout.top)
        entries = []
        for index, event in enumerate(self.visual.events):
            entries.append(Entry(index, f"{event.when}: {event.label}"))

        def marker(_item: int | None, size: float) -> VMobject:
            return Dot(radius=0.1, color=self.palette.accent)

        pages = self.pages_of(entries, area, marker, largest=L.BODY)
        for page in pages:
            rows = VGroup(*page.mobjects)
            x = min(row.get_left()[0] for row in rows) + 0.1  # through the dots, which hang left of the text
            line = Line(
                (x, rows.get_top()[1], 0.0), (x, rows.get_bottom()[1], 0.0), color=self.palette.muted, stroke_width=4
            )
            page.parts.insert(0, Part(line))
        return pages

    def compose(self) -> None:
        self.present(self.build(), [event.when for event in self.visual.events])
