"""Where a diagram's shapes stand on the storyboard's 14 x 8 canvas: what validation and drawing share.

A shape may hold another (an atom's nucleus, the sun inside an orbit) or overlap it (a Venn
diagram): the author placed them so, and the renderer draws them so. Two shapes drawn on top
of each other, about the same place and size, show as one and hide a label: such a storyboard
is refused, naming both shapes, since no drawing of it could be what the author meant. The
same holds where a ``move`` motion leaves a shape: the places are followed motion by motion
(a rotation by half a turn, the only one there is, and a pulse leave a shape's box where it was).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

# Half width and half height of each shape at size 1, in canvas units.
HALF_EXTENT: Final = {
    "circle": (0.5, 0.5),
    "square": (0.5, 0.5),
    "rectangle": (0.8, 0.5),
    "triangle": (0.5, 0.5),
    "dot": (0.12, 0.12),  # a dot keeps its size whatever ``size`` says
}
ON_TOP_OVERLAP: Final = 0.8  # intersection over union of two shapes' boxes that counts as the same spot


def legs_extent(legs: Sequence[float]) -> tuple[float, float]:
    """A right triangle's half width and half height at size 1 (its longer leg is 1 long)."""
    return legs[0] / max(legs) / 2, legs[1] / max(legs) / 2


def half_extent(shape: Any) -> tuple[float, float]:
    """``shape``'s half width and half height on the canvas, its size applied."""
    if shape.legs:
        hw, hh = legs_extent(shape.legs)
    else:
        hw, hh = HALF_EXTENT[shape.shape]
    grow = 1.0 if shape.shape == "dot" else shape.size
    return hw * grow, hh * grow


def _overlap(one: Any, at: tuple[float, float], other: Any, other_at: tuple[float, float]) -> float:
    """Intersection over union of the boxes of ``one`` centred at ``at`` and ``other`` at ``other_at``."""
    (w1, h1), (w2, h2) = half_extent(one), half_extent(other)
    (x1, y1), (x2, y2) = at, other_at
    across = min(x1 + w1, x2 + w2) - max(x1 - w1, x2 - w2)
    up = min(y1 + h1, y2 + h2) - max(y1 - h1, y2 - h2)
    if across <= 0 or up <= 0:
        return 0.0
    shared = across * up
    return shared / (4 * w1 * h1 + 4 * w2 * h2 - shared)


def drawn_on_top(shapes: Sequence[Any]) -> list[tuple[int, int]]:
    """Pairs of shapes (indices) at about the same place and size, as the author placed them."""
    return [
        (i, j)
        for i in range(len(shapes))
        for j in range(i + 1, len(shapes))
        if _overlap(shapes[i], (shapes[i].x, shapes[i].y), shapes[j], (shapes[j].x, shapes[j].y)) >= ON_TOP_OVERLAP
    ]


def moved_on_top(shapes: Sequence[Any], motions: Sequence[Any]) -> list[tuple[int, int]]:
    """(motion, shape) for each ``move`` that leaves its shape on top of another shape (indices), each
    shape where the motions before it left it."""
    places = {shape.id: (shape.x, shape.y) for shape in shapes}
    found = []
    for number, motion in enumerate(motions):
        if motion.action != "move":
            continue
        places[motion.shape] = (motion.x, motion.y)
        moved = next(shape for shape in shapes if shape.id == motion.shape)
        found += [
            (number, index)
            for index, other in enumerate(shapes)
            if other.id != moved.id and _overlap(moved, places[moved.id], other, places[other.id]) >= ON_TOP_OVERLAP
        ]
    return found


__all__ = ["HALF_EXTENT", "ON_TOP_OVERLAP", "drawn_on_top", "half_extent", "legs_extent", "moved_on_top"]
