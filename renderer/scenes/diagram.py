"""The diagram template: the author's shapes where the author put them, and labels that never collide.

Shapes keep their places (scaled, and in a portrait frame turned, to fill the safe area): one
may hold or overlap another on purpose; two on one spot are refused before drawing
(:mod:`videojob.diagram_geometry`). Labels are placed here: a shape's label inside it when it
fits wholly within the outline (and clear of what else is inside), else beside it (below, above,
right or left, whichever is free), an arrow's label beside its arrow; each clear of every other
label and inside the frame. When a diagram is too crowded for that (many long labels, or a
narrow frame), every label becomes a short key (1, 2... on the shapes, a, b... on the arrows)
and the labels are listed beside the drawing (below it in portrait), in pages when long.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from typing import Any

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Arrow,
    Circle,
    Dot,
    FadeIn,
    GrowArrow,
    GrowFromCenter,
    Indicate,
    Polygon,
    Rectangle,
    Rotate,
    Square,
    Triangle,
    VGroup,
    VMobject,
)

from videojob.diagram_geometry import half_extent, legs_extent
from videojob.renderer import layout as L
from videojob.renderer.layout import Box, Page, Part
from videojob.renderer.scenes.lists import Entry, ListScene

SHAPES = {
    "circle": lambda size, colour: Circle(radius=size / 2, color=colour),
    "square": lambda size, colour: Square(side_length=size, color=colour),
    "rectangle": lambda size, colour: Rectangle(width=size * 1.6, height=size, color=colour),
    "triangle": lambda size, colour: Triangle(color=colour).scale_to_fit_width(size),
    "dot": lambda size, colour: Dot(radius=0.12, color=colour),
}
LABEL_GAP = 0.12
SPIRAL_RINGS = 8
KEY_SHARE = 0.4  # of the frame's width (landscape) or height (portrait) the key takes when labels are keyed


def clamp(mobject: Any, area: Any) -> None:
    """Move ``mobject`` the least distance that puts it inside ``area`` (a Layout or a Box)."""
    box = Box.of(mobject)
    dx = max(0.0, area.left - box.left) - max(0.0, box.right - area.right)
    dy = max(0.0, area.bottom - box.bottom) - max(0.0, box.top - area.top)
    mobject.shift((dx, dy, 0))


def _length(name: str, value: float) -> str:
    shown = f"{value:.4g}"
    return f"{name} = {shown}" if float(shown) == value else f"{name} ≈ {shown}"


def _right_triangle(scene: Any, legs: tuple[float, float], size: float, colour: str, room: tuple[float, float]):
    """A right triangle to scale (the longer leg at most ``size`` long), the right angle marked at the
    bottom left, its sides labelled a (across), b (up) and c (the hypotenuse, computed); smaller when
    it and its labels would not fit in ``room`` (width, height), the labels staying their size."""
    drawn = _labelled_triangle(scene, legs, size, colour)
    label_width, label_height = drawn.width - drawn[0].width, drawn.height - drawn[0].height
    width, height = (size * extent * 2 for extent in legs_extent(legs))
    fit = min(1.0, (room[0] - label_width) / width, (room[1] - label_height) / height)
    return drawn if fit >= 1.0 else _labelled_triangle(scene, legs, size * max(fit, 0.1), colour)


def _labelled_triangle(scene: Any, legs: tuple[float, float], size: float, colour: str) -> VGroup:
    half_width, half_height = (size * extent for extent in legs_extent(legs))
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
    """The storyboard's 14 x 8 canvas mapped onto ``area``: scaled (and, in a portrait frame, turned so
    that left-to-right reads top-to-bottom) to fit every position a shape takes."""

    def __init__(self, visual: Any, area: Box, portrait: bool, label_room: float):
        positions = {shape.id: [(shape.x, shape.y)] for shape in visual.shapes}
        for motion in visual.motions:
            if motion.action == "move":
                positions[motion.shape].append((motion.x, motion.y))
        xs = [x for places in positions.values() for x, _ in places]
        ys = [y for places in positions.values() for _, y in places]
        self.turned = portrait and max(xs) - min(xs) > max(ys) - min(ys)
        boxes = []
        for shape in visual.shapes:  # in the frame's directions: a shape is never turned, only moved
            hw, hh = half_extent(shape)
            for x, y in positions[shape.id]:
                x, y = (-y, -x) if self.turned else (x, y)
                boxes.append((x - hw, x + hw, y - hh, y + hh))
        left, right = min(b[0] for b in boxes), max(b[1] for b in boxes)
        bottom, top = min(b[2] for b in boxes), max(b[3] for b in boxes)
        self.centre = ((left + right) / 2, (top + bottom) / 2)
        width, height = area.right - area.left, area.top - area.bottom
        self.scale = min((width - 0.2) / max(right - left, 1e-6), (height - label_room) / max(top - bottom, 1e-6), 1.6)
        self.target = ((area.left + area.right) / 2, (area.top + area.bottom + label_room) / 2)

    def point(self, x: float, y: float) -> tuple[float, float, float]:
        x, y = (-y, -x) if self.turned else (x, y)
        return (
            self.target[0] + (x - self.centre[0]) * self.scale,
            self.target[1] + (y - self.centre[1]) * self.scale,
            0.0,
        )


def _fits_inside(label: Any, shape: Any, kind: str) -> bool:
    """Whether ``label``, centred on ``shape``, stays within its outline (not only its bounding box)."""
    if kind == "circle":
        return float(np.hypot(label.width, label.height)) / 2 <= shape.width / 2 * 0.92
    if kind in ("square", "rectangle"):
        return label.width <= shape.width * 0.9 and label.height <= shape.height * 0.85
    return False  # a triangle's or a dot's label goes beside it


def _spiral(width: float, height: float, centre: np.ndarray, start: float) -> Iterator[tuple[np.ndarray, bool]]:
    """Places further and further out from ``centre`` (past a neighbour's label that took the near ones),
    in rings a label's height apart, for when every near place is taken."""
    step = height + LABEL_GAP
    for ring in range(1, SPIRAL_RINGS + 1):
        radius = start + ring * step
        for angle in np.linspace(-np.pi / 2, 3 * np.pi / 2, 16, endpoint=False):  # from below, round
            yield centre + np.array([np.cos(angle) * (radius + width / 2), np.sin(angle) * radius, 0.0]), False


def _holds(outer: Box, inner: Box) -> bool:
    return (
        outer.left <= inner.left
        and inner.right <= outer.right
        and outer.bottom <= inner.bottom
        and inner.top <= outer.top
    )


def _crosses(box: Box, start: np.ndarray, end: np.ndarray) -> bool:
    """Whether the segment from ``start`` to ``end`` passes through ``box`` (Liang-Barsky clipping)."""
    low, high = 0.0, 1.0
    delta = end - start
    for step, near, far in (
        (delta[0], box.left - start[0], box.right - start[0]),
        (delta[1], box.bottom - start[1], box.top - start[1]),
    ):
        if abs(step) < 1e-12:
            if near > 0 or far < 0:
                return False
            continue
        one, other = sorted((near / step, far / step))
        low, high = max(low, one), min(high, other)
        if low > high:
            return False
    return True


def _edge_points(source: Any, target: Any):
    direction = target.get_center() - source.get_center()
    length = np.linalg.norm(direction)
    if length < 1e-6:
        return source.get_center(), target.get_center() + RIGHT * 0.01
    unit = direction / length
    start = source.get_center() + unit * min(length / 2, max(source.width, source.height) / 2 + 0.05)
    end = target.get_center() - unit * min(length / 2, max(target.width, target.height) / 2 + 0.05)
    return start, end


class DiagramScene(ListScene):
    def build(self) -> list[Page]:
        layout = self.layout
        whole = Box(layout.left, layout.right, layout.bottom, layout.top)
        placed = self._draw(whole, keyed=False)
        if placed:
            return [Page(self._parts())]
        # Too crowded to label in place: keys on the drawing, the labels listed beside it.
        if layout.portrait:
            split = layout.bottom + layout.height * KEY_SHARE
            drawing, key_area = (
                Box(whole.left, whole.right, split + layout.gap, whole.top),
                Box(whole.left, whole.right, whole.bottom, split),
            )
        else:
            split = layout.right - layout.width * KEY_SHARE
            drawing, key_area = (
                Box(whole.left, split - layout.gap, whole.bottom, whole.top),
                Box(split, whole.right, whole.bottom, whole.top),
            )
        self._draw(drawing, keyed=True)
        entries = [Entry(None, f"{key}  {text}", marked=False) for key, text in self.keys]
        pages = self.pages_of(entries, key_area, lambda _item, _size: VGroup(), L.SMALLEST, centre=False)
        self.key_pages[:] = pages
        return [Page(self._parts() + page.parts) for page in pages]

    def _parts(self) -> list[Part]:
        return [Part(node) for node in self.nodes.values()] + [Part(m) for m in self.arrows + self.arrow_labels]

    def _draw(self, area: Box, keyed: bool) -> bool:
        """Shapes, arrows and labels (or keys) in ``area``; False as soon as a label finds no free place
        (keys always take one: one clear of other keys, else the first in the area)."""
        size = L.SMALLEST
        label_room = (2 * L.line_pitch(size) + 0.2) if not keyed else L.line_pitch(size) + 0.2
        canvas = _Canvas(self.visual, area, self.layout.portrait, label_room)
        self.canvas, self.area = canvas, area
        colours = [self.palette.accent, self.palette.secondary, self.palette.text]
        self.nodes: dict[str, VGroup] = {}
        self.keys: list[tuple[str, str]] = []
        self.key_pages: list[Page] = []
        shapes = {}
        for index, spec in enumerate(self.visual.shapes):
            scale = 1.0 if spec.shape == "dot" else canvas.scale
            colour = colours[index % len(colours)]
            shape: VMobject
            if spec.legs:  # filled inside, so that its side labels stay solid
                room = (area.right - area.left, area.top - area.bottom - label_room)
                shape = _right_triangle(self, spec.legs, spec.size * scale, colour, room)
            else:
                shape = SHAPES[spec.shape](spec.size * scale, colour)
                shape.set_fill(shape.get_color(), opacity=1.0 if spec.shape == "dot" else 0.15)
            shape.move_to(canvas.point(spec.x, spec.y))
            clamp(shape, area)  # a dot's fixed size may still reach past the edge
            shapes[spec.id] = shape
            self.nodes[spec.id] = VGroup(shape)
        taken: list[Box] = [Box.of(m) for s in shapes.values() for m in s.submobjects[2:]]  # triangles' side labels
        outlines = {key: Box.of(shape) for key, shape in shapes.items()}
        self.arrows, self.arrow_labels, self.label_offsets = [], [], []
        for spec in self.visual.arrows:
            source, target = shapes[spec.source], shapes[spec.target]
            arrow = Arrow(source.get_center(), target.get_center(), buff=0.1, color=self.palette.muted)
            arrow.put_start_and_end_on(*_edge_points(source, target))
            self.arrows.append(arrow)
        segments = [(arrow.get_start()[:2], arrow.get_end()[:2]) for arrow in self.arrows]
        for index, spec in enumerate(self.visual.shapes):
            if not spec.label:
                continue
            shape = shapes[spec.id]
            text = str(index + 1) if keyed else spec.label
            if keyed:
                self.keys.append((text, spec.label))
            label = self.lines(text, size, min(area.right - area.left, max(2.4, shape.width * 1.4)), centred=True)
            # Best kept clear of: the other shapes, except one this shape sits inside, and the arrows.
            mine = outlines[spec.id]
            others = [box for key, box in outlines.items() if key != spec.id and not _holds(box, mine)]
            inside = spec.shape if not spec.legs else "right_triangle"
            candidates = self._around(label, shape, inside, others)
            placed = self._put_label(label, candidates, taken, others, segments, mine)
            if not placed and not keyed:
                return False  # crowded: no need to draw the rest before keying them
            self.nodes[spec.id].add(label)
        letters = iter(string.ascii_lowercase)
        for arrow, spec in zip(self.arrows, self.visual.arrows, strict=True):
            if not spec.label:
                continue
            text = next(letters) if keyed else spec.label
            if keyed:
                self.keys.append((text, spec.label))
            width = min(area.right - area.left, max(2.4, arrow.get_length()))
            label = self.lines(text, size, width, self.palette.muted, centred=True)
            x, y = (float(c) for c in arrow.get_center()[:2])
            others = [box for box in outlines.values() if not _holds(box, Box(x, x, y, y))]
            if not self._put_label(label, self._along(label, arrow), taken, others, segments) and not keyed:
                return False
            self.arrow_labels.append(label)
            self.label_offsets.append(label.get_center() - arrow.get_center())
        return True

    def _around(self, label: Any, shape: Any, kind: str, others: list[Box]) -> Iterator[tuple[np.ndarray, bool]]:
        """Where a shape's label may go, best first: centred inside (when clear of what else is in the
        shape), then below, above, right, left, then further out."""
        centre, w, h = shape.get_center(), label.width, label.height
        there = Box(centre[0] - w / 2, centre[0] + w / 2, centre[1] - h / 2, centre[1] + h / 2)
        if _fits_inside(label, shape, kind) and not any(there.overlaps(other) for other in others):
            yield centre, True
        half_w, half_h = shape.width / 2 + LABEL_GAP, shape.height / 2 + LABEL_GAP
        yield centre + np.array([0.0, -(half_h + h / 2), 0.0]), True
        yield centre + np.array([0.0, half_h + h / 2, 0.0]), True
        yield centre + np.array([half_w + w / 2, 0.0, 0.0]), True
        yield centre + np.array([-(half_w + w / 2), 0.0, 0.0]), True
        yield from _spiral(w, h, centre, max(shape.width, shape.height) / 2)

    def _along(self, label: Any, arrow: Any) -> Iterator[tuple[np.ndarray, bool]]:
        """Where an arrow's label may go: beside its middle (above, or right of an upright arrow), then
        the other side, then beside a point a quarter or three quarters along it."""
        start, end, w, h = arrow.get_start(), arrow.get_end(), label.width, label.height
        dx, dy = (abs(float(c)) for c in (end - start)[:2])
        sides = [RIGHT * (w / 2 + LABEL_GAP), LEFT * (w / 2 + LABEL_GAP)]
        if dx >= dy:
            sides = [UP * (h / 2 + LABEL_GAP), DOWN * (h / 2 + LABEL_GAP)]
        for share in (0.5, 0.25, 0.75):
            for side in sides:
                yield start + (end - start) * share + side, True
        yield from _spiral(w, h, (start + end) / 2, 0.0)

    def _put_label(
        self,
        label: Any,
        candidates: Iterator[tuple[np.ndarray, bool]],
        taken: list[Box],
        shapes: list[Box],
        segments: list[tuple[np.ndarray, np.ndarray]],
        own: Box | None = None,
    ) -> bool:
        """``label`` at the first candidate inside the area that overlaps no label placed before, best one
        also clear of ``shapes`` and the arrows' ``segments``; among the near candidates, one clear of
        labels wins over a far one clear of everything (a label stays by what it names). True unless
        every candidate met a label. A label placed beside ``own`` (its shape) never overlaps it.
        Measured once, moved once: the candidates are tried as boxes."""
        w, h, area = label.width, label.height, self.area
        chosen = first = None
        for centre, near in candidates:
            if chosen is not None and not near:
                break  # a near place clear of labels, if not of shapes: better than a far one
            x = float(np.clip(centre[0], area.left + w / 2, max(area.left + w / 2, area.right - w / 2)))
            y = float(np.clip(centre[1], area.bottom + h / 2, max(area.bottom + h / 2, area.top - h / 2)))
            box = Box(x - w / 2, x + w / 2, y - h / 2, y + h / 2)
            first = first or (x, y)
            if any(box.overlaps(other) for other in taken):
                continue
            beside = own is not None and not np.allclose(
                centre[:2], ((own.left + own.right) / 2, (own.top + own.bottom) / 2)
            )
            if beside and own is not None and box.overlaps(own):  # pushed back onto its own shape by the frame's edge
                continue
            clear = not any(box.overlaps(other) for other in shapes)
            clear = clear and not any(_crosses(box, *segment) for segment in segments)
            if clear or not near:
                chosen = (x, y)
                break
            chosen = chosen or (x, y)
        if chosen is None:
            label.move_to((*(first or (0.0, 0.0)), 0.0))  # a key still goes by its shape when nothing is free
            return False
        label.move_to((*chosen, 0.0))
        taken.append(Box.of(label))
        return True

    def compose(self) -> None:
        pages = self.build()
        nodes = self.nodes
        self.animate(*[GrowFromCenter(node) for node in nodes.values()], run_time=0.8)
        for arrow, spec in zip(self.arrows, self.visual.arrows, strict=True):
            source, target = nodes[spec.source][0], nodes[spec.target][0]
            # Arrows and their labels follow their shapes while the motions play.
            arrow.add_updater(lambda a, s=source, t=target: a.put_start_and_end_on(*_edge_points(s, t)))
        labelled = [arrow for arrow, spec in zip(self.arrows, self.visual.arrows, strict=True) if spec.label]
        for label, arrow, offset in zip(self.arrow_labels, labelled, self.label_offsets, strict=True):
            label.add_updater(lambda m, a=arrow, o=offset: clamp(m.move_to(a.get_center() + o), self.area))
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
        if self.key_pages:
            key_pages = [Page(page.parts[len(self._parts()) :]) for page in pages]
            for number, page in enumerate(key_pages):
                for part in page.parts:
                    part.item = number
            self.present(key_pages, [f"\0key {number}" for number in range(len(key_pages))])


__all__ = ["DiagramScene", "clamp"]
