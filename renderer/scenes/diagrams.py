"""Templates that draw: function plot, labelled diagram, timeline."""

from __future__ import annotations

import itertools

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Arrow,
    Circle,
    Create,
    Dot,
    FadeIn,
    GrowArrow,
    GrowFromCenter,
    Indicate,
    Line,
    Polygon,
    Rectangle,
    Rotate,
    Square,
    Triangle,
    VGroup,
    VMobject,
)

from videojob.expression import evaluate
from videojob.renderer import layout as L
from videojob.renderer.layout import Box, Page, Part
from videojob.renderer.scenes.base import TemplateScene
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


SHAPES = {
    "circle": lambda size, colour: Circle(radius=size / 2, color=colour),
    "square": lambda size, colour: Square(side_length=size, color=colour),
    "rectangle": lambda size, colour: Rectangle(width=size * 1.6, height=size, color=colour),
    "triangle": lambda size, colour: Triangle(color=colour).scale_to_fit_width(size),
    "dot": lambda size, colour: Dot(radius=0.12, color=colour),
}
_HALF_EXTENT = {  # half width, half height of each shape at size 1
    "circle": (0.5, 0.5),
    "square": (0.5, 0.5),
    "rectangle": (0.8, 0.5),
    "triangle": (0.5, 0.5),
    "dot": (0.12, 0.12),
}


def _legs_extent(legs: tuple[float, float]) -> tuple[float, float]:
    """A right triangle's half width and half height at size 1 (its longer leg is 1 long)."""
    return legs[0] / max(legs) / 2, legs[1] / max(legs) / 2


def _length(name: str, value: float) -> str:
    shown = f"{value:.4g}"
    return f"{name} = {shown}" if float(shown) == value else f"{name} ≈ {shown}"


def _right_triangle(
    scene: TemplateScene, legs: tuple[float, float], size: float, colour: str, room: tuple[float, float]
) -> VGroup:
    """A right triangle to scale (the longer leg at most ``size`` long), the right angle marked at the
    bottom left, its sides labelled a (across), b (up) and c (the hypotenuse, computed); smaller when
    it and its labels would not fit in ``room`` (width, height), the labels staying their size."""
    drawn = _labelled_triangle(scene, legs, size, colour)
    label_width, label_height = drawn.width - drawn[0].width, drawn.height - drawn[0].height
    width, height = (size * extent * 2 for extent in _legs_extent(legs))
    fit = min(1.0, (room[0] - label_width) / width, (room[1] - label_height) / height)
    return drawn if fit >= 1.0 else _labelled_triangle(scene, legs, size * max(fit, 0.1), colour)


def _labelled_triangle(scene: TemplateScene, legs: tuple[float, float], size: float, colour: str) -> VGroup:
    half_width, half_height = (size * extent for extent in _legs_extent(legs))
    corner = np.array([-half_width, -half_height, 0.0])
    across, up = np.array([half_width, -half_height, 0.0]), np.array([-half_width, half_height, 0.0])
    triangle = Polygon(corner, across, up, color=colour).set_fill(colour, opacity=0.15)
    side = min(half_width, half_height) * 0.3
    mark = Square(side_length=side, color=colour, stroke_width=3).move_to(corner + np.array([side / 2, side / 2, 0.0]))
    text = L.SMALLEST
    a_label = scene.lines(_length("a", legs[0]), text, max(2.0, 2 * half_width), centred=True)
    a_label.next_to(triangle, DOWN, buff=0.12)
    b_label = scene.lines(_length("b", legs[1]), text, 2.4, centred=True).next_to(triangle, LEFT, buff=0.12)
    c_label = scene.lines(_length("c", float(np.hypot(*legs))), text, 2.4, centred=True)
    outward = np.array([half_height, half_width, 0.0]) / np.hypot(half_width, half_height)
    c_label.move_to(outward * (max(c_label.width, c_label.height) / 2 + 0.12))  # beside the hypotenuse's middle
    return VGroup(triangle, mark, a_label, b_label, c_label)


class _Canvas:
    """The storyboard's 14 x 8 canvas mapped onto the safe area: scaled (and, in a portrait frame,
    turned so that left-to-right reads top-to-bottom) to fit every position a shape takes."""

    def __init__(self, visual, layout, label_room: float):
        positions = {shape.id: [(shape.x, shape.y)] for shape in visual.shapes}
        for motion in visual.motions:
            if motion.action == "move":
                positions[motion.shape].append((motion.x, motion.y))
        xs = [x for places in positions.values() for x, _ in places]
        ys = [y for places in positions.values() for _, y in places]
        self.turned = layout.portrait and max(xs) - min(xs) > max(ys) - min(ys)
        boxes = []
        for shape in visual.shapes:  # in the frame's directions: a shape is never turned, only moved
            hw, hh = _legs_extent(shape.legs) if shape.legs else _HALF_EXTENT[shape.shape]
            grow = 1.0 if shape.shape == "dot" else shape.size
            for x, y in positions[shape.id]:
                x, y = (-y, -x) if self.turned else (x, y)
                boxes.append((x - hw * grow, x + hw * grow, y - hh * grow, y + hh * grow))
        left, right = min(b[0] for b in boxes), max(b[1] for b in boxes)
        bottom, top = min(b[2] for b in boxes), max(b[3] for b in boxes)
        self.centre = ((left + right) / 2, (top + bottom) / 2)
        self.scale = min(
            (layout.width - 0.2) / max(right - left, 1e-6),
            (layout.height - label_room) / max(top - bottom, 1e-6),
            1.6,
        )
        self.target = ((layout.left + layout.right) / 2, (layout.top + layout.bottom + label_room) / 2)

    def point(self, x: float, y: float) -> tuple[float, float, float]:
        x, y = (-y, -x) if self.turned else (x, y)
        return (
            self.target[0] + (x - self.centre[0]) * self.scale,
            self.target[1] + (y - self.centre[1]) * self.scale,
            0.0,
        )


def _clamp(mobject, layout) -> None:
    """Move ``mobject`` the least distance that puts it inside the safe area."""
    box = Box.of(mobject)
    dx = max(0.0, layout.left - box.left) - max(0.0, box.right - layout.right)
    dy = max(0.0, layout.bottom - box.bottom) - max(0.0, box.top - layout.top)
    mobject.shift((dx, dy, 0))


def _beside(label, arrow, layout) -> None:
    """An arrow's label above it, or to its right when the arrow runs more up and down than across."""
    dx, dy = (abs(float(c)) for c in (arrow.get_end() - arrow.get_start())[:2])
    label.next_to(arrow, RIGHT if dy > dx else UP, buff=0.1)
    _clamp(label, layout)


class DiagramScene(TemplateScene):
    def build(self) -> list[Page]:
        layout, size = self.layout, L.SMALLEST
        label_room = 2 * L.line_pitch(size) + 0.2
        canvas = _Canvas(self.visual, layout, label_room)
        self.canvas = canvas
        colours = [self.palette.accent, self.palette.secondary, self.palette.text]
        self.nodes: dict[str, VGroup] = {}
        labels = []
        for index, spec in enumerate(self.visual.shapes):
            scale = 1.0 if spec.shape == "dot" else canvas.scale
            colour = colours[index % len(colours)]
            shape: VMobject
            if spec.legs:  # filled inside, so that its side labels stay solid
                room = (layout.width, layout.height - label_room)
                shape = _right_triangle(self, spec.legs, spec.size * scale, colour, room)
            else:
                shape = SHAPES[spec.shape](spec.size * scale, colour)
                shape.set_fill(shape.get_color(), opacity=1.0 if spec.shape == "dot" else 0.15)
            shape.move_to(canvas.point(spec.x, spec.y))
            group = VGroup(shape)
            if spec.label:
                label = self.lines(spec.label, size, min(layout.width, max(2.4, shape.width * 1.4)), centred=True)
                if (
                    spec.shape not in ("dot", "triangle", "right_triangle")
                    and label.width < shape.width * 0.9
                    and label.height < shape.height * 0.8
                ):
                    label.move_to(shape)
                else:
                    label.next_to(shape, DOWN, buff=0.12)
                    _clamp(label, layout)
                group.add(label)
                labels.append(label)
            _clamp(group, layout)  # a dot's fixed size, or a wide label, may still reach past the edge
            self.nodes[spec.id] = group
        self.arrows, self.arrow_labels = [], []
        for spec in self.visual.arrows:
            source, target = self.nodes[spec.source][0], self.nodes[spec.target][0]
            arrow = Arrow(source.get_center(), target.get_center(), buff=0.1, color=self.palette.muted)
            arrow.put_start_and_end_on(*_edge_points(source, target))
            self.arrows.append(arrow)
            if spec.label:
                width = min(layout.width, max(2.4, arrow.get_length()))
                label = self.lines(spec.label, size, width, self.palette.muted, centred=True)
                _beside(label, arrow, layout)
                self.arrow_labels.append(label)
        return [Page([Part(node) for node in self.nodes.values()] + [Part(m) for m in self.arrows + self.arrow_labels])]

    def compose(self) -> None:
        self.build()
        nodes, layout = self.nodes, self.layout
        self.animate(*[GrowFromCenter(node) for node in nodes.values()], run_time=0.8)
        for arrow, spec in zip(self.arrows, self.visual.arrows, strict=True):
            source, target = nodes[spec.source][0], nodes[spec.target][0]
            # Arrows and their labels follow their shapes while the motions play.
            arrow.add_updater(lambda a, s=source, t=target: a.put_start_and_end_on(*_edge_points(s, t)))
        labelled = [arrow for arrow, spec in zip(self.arrows, self.visual.arrows, strict=True) if spec.label]
        for label, arrow in zip(self.arrow_labels, labelled, strict=True):
            label.add_updater(lambda m, a=arrow: _beside(m, a, layout))
        if self.arrows:
            self.animate(*[GrowArrow(a) for a in self.arrows], *[FadeIn(m) for m in self.arrow_labels], run_time=0.7)
        for motion in self.visual.motions:
            node = nodes[motion.shape]
            if motion.action == "move":
                goal = np.array(self.canvas.point(motion.x, motion.y)) - node[0].get_center() + node.get_center()
                self.animate(node.animate.move_to(goal), run_time=1.0)
            elif motion.action == "rotate":
                self.animate(Rotate(node[0], angle=np.pi), run_time=1.0)  # the shape turns, its label stays upright
            else:
                self.animate(Indicate(node, color=self.palette.secondary), run_time=0.8)
        for mobject in self.arrows + self.arrow_labels:
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
                _clamp(card, layout)
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
