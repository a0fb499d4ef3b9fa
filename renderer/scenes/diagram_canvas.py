"""What the diagram template draws with: the canvas mapped onto the frame, the shapes, and the geometry
its labels are placed by (:mod:`videojob.renderer.scenes.diagram`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from manim import DOWN, LEFT, RIGHT, Circle, Dot, Polygon, Rectangle, Square, Triangle, VGroup

from videojob.diagram_geometry import half_extent, legs_extent
from videojob.renderer import layout as L
from videojob.renderer.layout import Box

SHAPES = {
    "circle": lambda size, colour: Circle(radius=size / 2, color=colour),
    "square": lambda size, colour: Square(side_length=size, color=colour),
    "rectangle": lambda size, colour: Rectangle(width=size * 1.6, height=size, color=colour),
    "triangle": lambda size, colour: Triangle(color=colour).scale_to_fit_width(size),
    "dot": lambda size, colour: Dot(radius=0.12, color=colour),
}
LABEL_GAP = 0.12
SPIRAL_RINGS = 8
ARROW_LEAST = 0.02  # the shortest an arrow is drawn, between shapes that touch


def clamp(mobject: Any, area: Any) -> None:
    """Move ``mobject`` the least distance that puts it inside ``area`` (a Layout or a Box)."""
    box = Box.of(mobject)
    dx = max(0.0, area.left - box.left) - max(0.0, box.right - area.right)
    dy = max(0.0, area.bottom - box.bottom) - max(0.0, box.top - area.top)
    mobject.shift((dx, dy, 0))


def _length(name: str, value: float) -> str:
    shown = f"{value:.4g}"
    return f"{name} = {shown}" if float(shown) == value else f"{name} ≈ {shown}"


def right_triangle(scene: Any, legs: tuple[float, float], size: float, colour: str, room: tuple[float, float]):
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


class Canvas:
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


def fits_inside(label: Any, shape: Any, kind: str) -> bool:
    """Whether ``label``, centred on ``shape``, stays within its outline (not only its bounding box)."""
    if kind == "circle":
        return float(np.hypot(label.width, label.height)) / 2 <= shape.width / 2 * 0.92
    if kind in ("square", "rectangle"):
        return label.width <= shape.width * 0.9 and label.height <= shape.height * 0.85
    return False  # a triangle's or a dot's label goes beside it


def spiral(width: float, height: float, centre: np.ndarray, start: float) -> Iterator[tuple[np.ndarray, bool]]:
    """Places further and further out from ``centre`` (past a neighbour's label that took the near ones),
    in rings a label's height apart, for when every near place is taken."""
    step = height + LABEL_GAP
    for ring in range(1, SPIRAL_RINGS + 1):
        radius = start + ring * step
        for angle in np.linspace(-np.pi / 2, 3 * np.pi / 2, 16, endpoint=False):  # from below, round
            yield centre + np.array([np.cos(angle) * (radius + width / 2), np.sin(angle) * radius, 0.0]), False


def holds(outer: Box, inner: Box) -> bool:
    return (
        outer.left <= inner.left
        and inner.right <= outer.right
        and outer.bottom <= inner.bottom
        and inner.top <= outer.top
    )


def crosses(box: Box, start: np.ndarray, end: np.ndarray) -> bool:
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


def edge_points(source: Any, target: Any):
    direction = target.get_center() - source.get_center()
    length = float(np.linalg.norm(direction))
    if length < 1e-6:
        return source.get_center(), target.get_center() + RIGHT * 0.01
    unit = direction / length
    # Never quite zero long, even between shapes that overlap: Manim cannot stretch a zero-length arrow
    # again, so one that a motion later pulls apart would stay invisible.
    most = max(length - ARROW_LEAST, 0.0) / 2
    start = source.get_center() + unit * min(most, max(source.width, source.height) / 2 + 0.05)
    end = target.get_center() - unit * min(most, max(target.width, target.height) / 2 + 0.05)
    return start, end


def join(arrow: Any, source: Any, target: Any, area: Any) -> Any:
    """``arrow`` from ``source``'s edge to ``target``'s, inside ``area``: its head keeps its size, so along
    the frame's edge it would stick out by half its width."""
    arrow.put_start_and_end_on(*edge_points(source, target))
    clamp(arrow, area)
    return arrow


__all__ = [
    "ARROW_LEAST",
    "LABEL_GAP",
    "SHAPES",
    "Canvas",
    "clamp",
    "crosses",
    "edge_points",
    "fits_inside",
    "holds",
    "join",
    "right_triangle",
    "spiral",
]
