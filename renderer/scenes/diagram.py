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
from dataclasses import dataclass
from typing import Any

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Arrow,
    FadeIn,
    GrowArrow,
    GrowFromCenter,
    Indicate,
    Rotate,
    VGroup,
    VMobject,
)

from videojob.renderer import layout as L
from videojob.renderer.layout import Box, Page, Part
from videojob.renderer.scenes.diagram_canvas import (
    LABEL_GAP,
    SHAPES,
    Canvas,
    clamp,
    crosses,
    fits_inside,
    holds,
    join,
    right_triangle,
    spiral,
)
from videojob.renderer.scenes.lists import Entry, ListScene


@dataclass(frozen=True)
class MotionEnd:
    """Where one motion leaves what it moves: the shape's new centre (None: it stays put) and the new
    centres of the labels that follow it."""

    centre: np.ndarray | None
    labels: list[tuple[Any, np.ndarray]]


def half_turn(shape: Any, turns_labels: bool) -> list[Any]:
    """A half turn of ``shape`` about its centre; a right triangle's side labels go round with their sides
    but stay upright (Manim would turn them upside down). The shape's box ends where it began."""
    if not turns_labels:
        return [Rotate(shape, angle=np.pi)]
    centre = shape.get_center()
    outline, labels = VGroup(*shape.submobjects[:2]), shape.submobjects[2:]
    return [Rotate(outline, angle=np.pi, about_point=centre)] + [
        label.animate.move_to(2 * centre - label.get_center()) for label in labels
    ]


KEY_SHARE = 0.4  # of the frame's width (landscape) or height (portrait) the key takes when labels are keyed


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
        canvas = Canvas(self.visual, area, self.layout.portrait, label_room)
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
                shape = right_triangle(self, spec.legs, spec.size * scale, colour, room)
            else:
                shape = SHAPES[spec.shape](spec.size * scale, colour)
                shape.set_fill(shape.get_color(), opacity=1.0 if spec.shape == "dot" else 0.15)
            shape.move_to(canvas.point(spec.x, spec.y))
            clamp(shape, area)  # a dot's fixed size may still reach past the edge
            shapes[spec.id] = shape
            self.nodes[spec.id] = VGroup(shape)
        taken: list[Box] = [Box.of(m) for s in shapes.values() for m in s.submobjects[2:]]  # triangles' side labels
        outlines = {key: Box.of(shape) for key, shape in shapes.items()}
        self.arrows, self.arrow_labels = [], []
        for spec in self.visual.arrows:
            source, target = shapes[spec.source], shapes[spec.target]
            arrow = Arrow(source.get_center(), target.get_center(), buff=0.1, color=self.palette.muted)
            join(arrow, source, target, area)
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
            others = [box for key, box in outlines.items() if key != spec.id and not holds(box, mine)]
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
            others = [box for box in outlines.values() if not holds(box, Box(x, x, y, y))]
            if not self._put_label(label, self._along(label, arrow), taken, others, segments) and not keyed:
                return False
            self.arrow_labels.append(label)
        self.motion_ends, every_label_placed = self._plan_motions()
        return keyed or every_label_placed

    def _plan_motions(self) -> tuple[list[MotionEnd], bool]:
        """Where each motion leaves what it moves, worked out on the laid-out picture and then undone.
        A moved shape takes its label along, placed again by the rules of the still picture (inside it,
        else beside it, clear of every label that stays, inside the frame), and so are the labels of its
        arrows. False beside them when one of those finds no free place: the diagram is keyed instead, as a
        crowded still one is. A half turn or a pulse ends where it began."""
        shapes = {key: node[0] for key, node in self.nodes.items()}
        labels = {key: node[-1] for key, node in self.nodes.items() if len(node) > 1}
        numbered = [index for index, spec in enumerate(self.visual.arrows) if spec.label]
        arrow_labels = dict(zip(numbered, self.arrow_labels, strict=True))
        kinds = {spec.id: "right_triangle" if spec.legs else spec.shape for spec in self.visual.shapes}
        drawn = [(m, m.get_center().copy()) for m in [*shapes.values(), *labels.values(), *self.arrow_labels]]
        arrows_drawn = [arrow.copy() for arrow in self.arrows]
        ends: list[MotionEnd] = []
        every_label_placed = True
        for motion in self.visual.motions:
            if motion.action != "move":
                ends.append(MotionEnd(None, []))
                continue
            shape = shapes[motion.shape].move_to(self.canvas.point(motion.x, motion.y))
            clamp(shape, self.area)
            joined = [i for i, spec in enumerate(self.visual.arrows) if motion.shape in (spec.source, spec.target)]
            for i in joined:
                spec = self.visual.arrows[i]
                join(self.arrows[i], shapes[spec.source], shapes[spec.target], self.area)
            following = [labels[motion.shape]] if motion.shape in labels else []
            following += [arrow_labels[i] for i in joined if i in arrow_labels]
            staying = [m for m in [*labels.values(), *self.arrow_labels] if all(m is not f for f in following)]
            taken = [Box.of(m) for m in staying] + [Box.of(m) for s in shapes.values() for m in s.submobjects[2:]]
            outlines = {key: Box.of(s) for key, s in shapes.items()}
            segments = [(arrow.get_start()[:2], arrow.get_end()[:2]) for arrow in self.arrows]
            if motion.shape in labels:
                mine = outlines[motion.shape]
                others = [box for key, box in outlines.items() if key != motion.shape and not holds(box, mine)]
                candidates = self._around(labels[motion.shape], shape, kinds[motion.shape], others)
                every_label_placed &= self._put_label(labels[motion.shape], candidates, taken, others, segments, mine)
            for i in joined:
                if i in arrow_labels:
                    label, arrow = arrow_labels[i], self.arrows[i]
                    x, y = (float(c) for c in arrow.get_center()[:2])
                    others = [box for box in outlines.values() if not holds(box, Box(x, x, y, y))]
                    every_label_placed &= self._put_label(label, self._along(label, arrow), taken, others, segments)
            ends.append(MotionEnd(shape.get_center().copy(), [(m, m.get_center().copy()) for m in following]))
        for mobject, centre in drawn:
            mobject.move_to(centre)
        for arrow, before in zip(self.arrows, arrows_drawn, strict=True):
            arrow.become(before)
        return ends, every_label_placed

    def _around(self, label: Any, shape: Any, kind: str, others: list[Box]) -> Iterator[tuple[np.ndarray, bool]]:
        """Where a shape's label may go, best first: centred inside (when clear of what else is in the
        shape), then below, above, right, left, then further out."""
        centre, w, h = shape.get_center(), label.width, label.height
        there = Box(centre[0] - w / 2, centre[0] + w / 2, centre[1] - h / 2, centre[1] + h / 2)
        if fits_inside(label, shape, kind) and not any(there.overlaps(other) for other in others):
            yield centre, True
        half_w, half_h = shape.width / 2 + LABEL_GAP, shape.height / 2 + LABEL_GAP
        yield centre + np.array([0.0, -(half_h + h / 2), 0.0]), True
        yield centre + np.array([0.0, half_h + h / 2, 0.0]), True
        yield centre + np.array([half_w + w / 2, 0.0, 0.0]), True
        yield centre + np.array([-(half_w + w / 2), 0.0, 0.0]), True
        yield from spiral(w, h, centre, max(shape.width, shape.height) / 2)

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
        yield from spiral(w, h, (start + end) / 2, 0.0)

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
            clear = clear and not any(crosses(box, *segment) for segment in segments)
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
            arrow.add_updater(lambda a, s=source, t=target: join(a, s, t, self.area))
        if self.arrows:
            self.animate(*[GrowArrow(a) for a in self.arrows], *[FadeIn(m) for m in self.arrow_labels], run_time=0.7)
        turns_labels = {spec.id: bool(spec.legs) for spec in self.visual.shapes}
        for motion, end in zip(self.visual.motions, self.motion_ends, strict=True):
            node = nodes[motion.shape]
            if end.centre is not None:  # a move: the labels that follow go to their planned places with it
                following = [m.animate.move_to(centre) for m, centre in end.labels]
                self.animate(node[0].animate.move_to(end.centre), *following, run_time=1.0)
            elif motion.action == "rotate":
                self.animate(*half_turn(node[0], turns_labels[motion.shape]), run_time=1.0)
            else:
                self.animate(Indicate(node, color=self.palette.secondary), run_time=0.8)
        for mobject in self.arrows:
            mobject.clear_updaters()  # a still picture again: the hold that follows is cheap to draw
        if self.key_pages:
            key_pages = [Page(page.parts[len(self._parts()) :]) for page in pages]
            for number, page in enumerate(key_pages):
                for part in page.parts:
                    part.item = number
            self.present(key_pages, [f"\0key {number}" for number in range(len(key_pages))])


__all__ = ["DiagramScene", "clamp"]
