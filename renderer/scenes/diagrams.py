"""Templates that draw: function plot, labelled diagram, timeline."""

from __future__ import annotations

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Arrow,
    Axes,
    Circle,
    Create,
    Dot,
    FadeIn,
    GrowArrow,
    GrowFromCenter,
    Indicate,
    Line,
    Rectangle,
    Rotate,
    Square,
    Triangle,
    VGroup,
    VMobject,
)

from videojob.expression import evaluate
from videojob.renderer.scenes.base import TemplateScene
from videojob.renderer.timing import reveal_times

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
            if y_max - y_min < 1e-9:
                y_min, y_max = y_min - 1, y_max + 1
            margin = (y_max - y_min) * 0.1
            y_min, y_max = y_min - margin, y_max + margin
    return xs, ys, y_min, y_max


def _nice_step(span: float) -> float:
    raw = span / 6
    magnitude = 10 ** np.floor(np.log10(raw))
    return float(min((m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw), default=raw))


class FunctionPlotScene(TemplateScene):
    def compose(self) -> None:
        v = self.visual
        xs, ys, y_min, y_max = plot_ranges(v.expression, v.x_min, v.x_max, v.y_min, v.y_max)
        axes = Axes(
            x_range=[v.x_min, v.x_max, _nice_step(v.x_max - v.x_min)],
            y_range=[y_min, y_max, _nice_step(y_max - y_min)],
            x_length=11,
            y_length=5.6,
            axis_config={"color": self.palette.muted, "include_tip": False},
        ).to_edge(DOWN, buff=0.5)
        curve = VGroup()
        visible = np.isfinite(ys) & (ys >= y_min) & (ys <= y_max)
        # Draw each run of visible samples separately, so poles and gaps are not bridged.
        edges = np.flatnonzero(np.diff(np.concatenate([[0], visible.astype(int), [0]])))
        for start, stop in zip(edges[::2], edges[1::2], strict=False):
            if stop - start >= 2:
                points = [axes.c2p(x, y) for x, y in zip(xs[start:stop], ys[start:stop], strict=True)]
                curve.add(VMobject(color=self.palette.accent, stroke_width=5).set_points_as_corners(points))
        label = self.text(v.label or f"y = {v.expression}", size=44, color=self.palette.secondary)
        label.to_edge(UP, buff=0.4)
        self.animate(Create(axes), self.appear(label, DOWN * 0.2), run_time=0.8)
        draw_for = max(1.0, min(3.0, self.timing.speech_seconds * 0.5))
        self.animate(Create(curve), run_time=draw_for)


SHAPES = {
    "circle": lambda size, colour: Circle(radius=size / 2, color=colour),
    "square": lambda size, colour: Square(side_length=size, color=colour),
    "rectangle": lambda size, colour: Rectangle(width=size * 1.6, height=size, color=colour),
    "triangle": lambda size, colour: Triangle(color=colour).scale_to_fit_width(size),
    "dot": lambda size, colour: Dot(radius=0.12, color=colour),
}


class DiagramScene(TemplateScene):
    def compose(self) -> None:
        colours = [self.palette.accent, self.palette.secondary, self.palette.text]
        nodes = {}
        for index, spec in enumerate(self.visual.shapes):
            shape = SHAPES[spec.shape](spec.size, colours[index % len(colours)])
            shape.set_fill(shape.get_color(), opacity=1.0 if spec.shape == "dot" else 0.15)
            shape.move_to((spec.x, spec.y, 0.0))
            group = VGroup(shape)
            if spec.label:
                label = self.text(spec.label, size=32, width=max(1.4, spec.size * 1.8))
                (
                    label.move_to(shape)
                    if spec.shape not in ("dot", "triangle") and label.width < shape.width * 0.9
                    else label.next_to(shape, DOWN, buff=0.15)
                )
                group.add(label)
            nodes[spec.id] = group
        self.animate(*[GrowFromCenter(node) for node in nodes.values()], run_time=0.8)
        arrows, labels = [], []
        for spec in self.visual.arrows:
            source, target = nodes[spec.source][0], nodes[spec.target][0]
            arrow = Arrow(source.get_center(), target.get_center(), buff=0.1, color=self.palette.muted)
            arrow.put_start_and_end_on(*_edge_points(source, target))
            # Arrows and their labels follow their shapes while the motions play.
            arrow.add_updater(lambda a, s=source, t=target: a.put_start_and_end_on(*_edge_points(s, t)))
            arrows.append(arrow)
            if spec.label:
                label = self.text(spec.label, size=28, color=self.palette.muted).next_to(arrow, UP, buff=0.1)
                label.add_updater(lambda m, a=arrow: m.next_to(a, UP, buff=0.1))
                labels.append(label)
        if arrows:
            self.animate(*[GrowArrow(a) for a in arrows], *[FadeIn(m) for m in labels], run_time=0.7)
        for motion in self.visual.motions:
            node = nodes[motion.shape]
            if motion.action == "move":
                self.animate(node.animate.move_to((motion.x, motion.y, 0.0)), run_time=1.0)
            elif motion.action == "rotate":
                self.animate(Rotate(node[0], angle=np.pi), run_time=1.0)  # the shape turns, its label stays upright
            else:
                self.animate(Indicate(node, color=self.palette.secondary), run_time=0.8)
        for mobject in arrows + labels:
            mobject.clear_updaters()  # a still picture again: the hold that follows is cheap to draw


def _edge_points(source, target):
    direction = target.get_center() - source.get_center()
    length = np.linalg.norm(direction)
    if length < 1e-6:
        return source.get_center(), target.get_center() + RIGHT * 0.01
    unit = direction / length
    start = source.get_center() + unit * min(length / 2, max(source.width, source.height) / 2 + 0.05)
    end = target.get_center() - unit * min(length / 2, max(target.width, target.height) / 2 + 0.05)
    return start, end


class TimelineScene(TemplateScene):
    def compose(self) -> None:
        events = self.visual.events
        line = Line(LEFT * 6, RIGHT * 6, color=self.palette.muted, stroke_width=4)
        xs = np.linspace(-5.4, 5.4, len(events))
        marks = []
        for index, (event, x) in enumerate(zip(events, xs, strict=False)):
            side = UP if index % 2 == 0 else DOWN
            dot = Dot((float(x), 0.0, 0.0), radius=0.1, color=self.palette.accent)
            when = self.text(event.when, size=36, color=self.palette.secondary, weight="BOLD", width=2.6)
            label = self.text(event.label, size=28, width=2.6)
            card = VGroup(when, label).arrange(DOWN, buff=0.12).next_to(dot, side, buff=0.35)
            marks.append(VGroup(dot, card))
        self.animate(Create(line), run_time=0.6)
        spoken = [f"{event.when}" for event in events]
        for mark, moment in zip(marks, reveal_times(self.narration, spoken, self.timing), strict=False):
            self.hold_until(moment)
            self.animate(self.appear(mark, UP * 0.1), run_time=0.4)
