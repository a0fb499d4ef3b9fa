"""The drawing blocks of a Markdown lecture: tables, and fenced ``diagram``, ``timeline`` and ``plot``.

Each is a tiny line-oriented language read into a storyboard visual (data, never code):

* a pipe table of two columns is a comparison (the header row titles the columns); with
  three, the first column names the rows (its header cell empty) and each item reads "row: cell";
* ``diagram``: ``circle sun: The Sun`` (``circle``, ``square``, ``rectangle``, ``triangle``,
  ``dot``, then an id, then ``at X,Y`` and ``size=N`` if wanted), ``earth: The Earth`` (a
  circle), ``triangle T a=3 b=4`` (a right triangle with legs 3 and 4, drawn to scale, its
  sides labelled), ``sun -> earth: gravity``, ``move earth to 3,1``, ``rotate box``, ``pulse sun``;
  shapes without ``at`` stand in a row; a shape may hold or overlap another (an orbit, a Venn
  diagram), but two on one spot (the same place and size) are refused naming the second's line;
* ``timeline``: one ``WHEN: WHAT`` per line, in order (``1905: Special relativity``);
* ``plot``: ``y = EXPRESSION`` (see :mod:`videojob.expression`), ``x: A..B``, ``y: A..B`` and
  ``label: TEXT``.

``#`` starts a comment line inside a fence. A line that does not parse, or a value past a
limit of :mod:`videojob.limits`, is refused naming the lecture's line and what to write instead.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ValidationError

from videojob import limits as L
from videojob.diagram_geometry import drawn_on_top
from videojob.expression import ExpressionError, parse_expression
from videojob.storyboard import InvalidStoryboardError, plain_message
from videojob.visuals import Comparison, Diagram, DiagramShape, FunctionPlot, Timeline

REFUSAL = "the lecture cannot become a video"
DRAWING_LANGUAGES = ("diagram", "timeline", "plot")
SHAPE_WORDS = ("circle", "square", "rectangle", "triangle", "dot")
ROW_SPACING = 3.0  # canvas units between shapes placed in a row (the canvas is 14 wide)

_NUMBER = r"-?(?:\d+(?:\.\d*)?|\.\d+)"
_ID = r"[A-Za-z][A-Za-z0-9_-]{0,30}"
_SHAPE = re.compile(rf"^(?P<shape>{'|'.join(SHAPE_WORDS)})\s+(?P<id>{_ID})(?P<options>(?:\s+[^:]*)?)$")
_NAMED = re.compile(rf"^(?P<id>{_ID})$")
_ARROW = re.compile(rf"^(?P<source>{_ID})\s*->\s*(?P<target>{_ID})$")
_MOTION = re.compile(
    rf"^(?:(?P<move>move)\s+(?P<id>{_ID})\s+to\s+(?P<x>{_NUMBER})\s*,\s*(?P<y>{_NUMBER})"
    rf"|(?P<action>rotate|pulse)\s+(?P<other>{_ID}))$"
)
_AT = re.compile(rf"^at\s+({_NUMBER})\s*,\s*({_NUMBER})$")
_OPTION = re.compile(rf"^(size|a|b)\s*=\s*({_NUMBER})$")
_RANGE = re.compile(rf"^([xy])\s*(?::|=|in)\s*({_NUMBER})\s*\.\.\s*({_NUMBER})$")
_CURVE = re.compile(r"^(?:y|f\(x\))\s*=\s*(.+)$")
_EVENT_COLON = re.compile(r":\s")  # searched, not matched with a lazy group: linear on a hostile line

DIAGRAM_FORMS = (
    "write 'circle ID: label' (or square, rectangle, triangle, dot; 'at X,Y' and 'size=N' after the id), "
    "'ID: label', 'triangle ID a=3 b=4' for a right triangle, 'A -> B: label', 'move ID to X,Y', "
    "'rotate ID' or 'pulse ID'"
)


class InvalidBlockError(InvalidStoryboardError):
    """A table or drawing block that cannot become its scene: bad input, never retried."""

    def __init__(self, line: int, problem: str):
        self.line = line
        super().__init__([f"line {line}: {problem}"], summary=REFUSAL)


def _lines(text: str, first_line: int) -> list[tuple[int, str]]:
    """The block's meaningful lines with their line numbers in the lecture (comments and blanks gone)."""
    return [
        (first_line + number, line.strip())
        for number, line in enumerate(text.splitlines())
        if line.strip() and not line.strip().startswith("#")
    ]


def _quoted(text: str, limit: int = 60) -> str:
    """A line quoted in a message, cut short: a hostile line may be 60,000 characters long."""
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _label(rest: str) -> tuple[str, str | None]:
    """``head: label`` split at the first colon; the label is None without one."""
    head, colon, label = rest.partition(":")
    return head.strip(), (label.strip() or None) if colon else None


def _validated(model: type[BaseModel], data: dict[str, Any], lines: dict[tuple[Any, ...], int], line: int) -> None:
    """``data`` checked against the storyboard's ``model``; a problem names the line its part came from."""
    try:
        model.model_validate(data)
    except ValidationError as error:
        item = error.errors()[0]
        loc = tuple(item["loc"])
        where = max((prefix for prefix in lines if loc[: len(prefix)] == prefix), key=len, default=None)
        field = ".".join(str(part) for part in loc if not isinstance(part, int))
        raise InvalidBlockError(
            lines[where] if where is not None else line, f"{field + ': ' if field else ''}{plain_message(item)}"
        ) from None


def diagram_visual(text: str, first_line: int) -> dict[str, Any]:
    """A ``diagram`` fence (``first_line``: the lecture's line of its first content line) as a diagram."""
    shapes: list[dict[str, Any]] = []
    arrows: list[dict[str, Any]] = []
    motions: list[dict[str, Any]] = []
    lines: dict[tuple[Any, ...], int] = {}
    placed: set[int] = set()
    declared: set[str] = set()
    for number, line in _lines(text, first_line):
        head, label = _label(line)
        if (shape := _SHAPE.match(head)) or (_NAMED.match(head) and label is not None):
            shape_id = shape["id"] if shape else head
            if shape_id in declared:
                raise InvalidBlockError(number, f"shape {shape_id!r} is declared twice: give each shape its own id")
            declared.add(shape_id)
            entry: dict[str, Any] = {"id": shape_id, "shape": shape["shape"] if shape else "circle"}
            if label is not None:
                entry["label"] = label
            if shape and _shape_options(entry, shape["options"].strip(), number):
                placed.add(len(shapes))
            lines[("shapes", len(shapes))] = number
            shapes.append(entry)
        elif (arrow := _ARROW.match(head)) is not None:
            lines[("arrows", len(arrows))] = number
            arrows.append({"source": arrow["source"], "target": arrow["target"], **({"label": label} if label else {})})
        elif (motion := _MOTION.match(line)) is not None:
            lines[("motions", len(motions))] = number
            if motion["move"]:
                motions.append(
                    {"shape": motion["id"], "action": "move", "x": float(motion["x"]), "y": float(motion["y"])}
                )
            else:
                motions.append({"shape": motion["other"], "action": motion["action"]})
        else:
            raise InvalidBlockError(number, f"{_quoted(line)} is not a diagram line: {DIAGRAM_FORMS}")
    if not shapes:
        raise InvalidBlockError(first_line - 1, f"the diagram has no shapes: {DIAGRAM_FORMS}")
    known = {shape["id"] for shape in shapes}
    for index, reference in [
        (("arrows", i), end) for i, a in enumerate(arrows) for end in (a["source"], a["target"])
    ] + [(("motions", i), m["shape"]) for i, m in enumerate(motions)]:
        if reference not in known:
            raise InvalidBlockError(
                lines[index], f"no shape is called {reference!r}: declare it ('{reference}: label')"
            )
    _in_a_row([shape for index, shape in enumerate(shapes) if index not in placed])
    visual = {"kind": "diagram", "shapes": shapes, "arrows": arrows, "motions": motions}
    if len(shapes) > L.DIAGRAM_SHAPES_MAX:  # refused before the pairwise check: a hostile block may hold thousands
        _validated(Diagram, visual, lines, first_line - 1)
    _none_on_top(shapes, lines)
    _validated(Diagram, visual, lines, first_line - 1)
    return visual


def _none_on_top(shapes: list[dict[str, Any]], lines: dict[tuple[Any, ...], int]) -> None:
    """Two shapes on one spot, refused naming the later one's line (the storyboard would name only the block)."""
    try:
        models = [DiagramShape.model_validate(shape) for shape in shapes]
    except ValidationError:
        return  # a bad shape: the storyboard's validation names it
    for one, other in drawn_on_top(models):
        raise InvalidBlockError(
            lines[("shapes", other)],
            f"{models[other].id!r} is drawn on top of {models[one].id!r} (line {lines[('shapes', one)]}): same place, "
            "same size; move it with 'at X,Y' or give it another 'size=N'",
        )


def _shape_options(entry: dict[str, Any], options: str, line: int) -> bool:
    """``at X,Y``, ``size=N`` and, on a triangle, ``a=N b=N`` into ``entry``; True when it was placed."""
    placed, legs = False, {}
    for option in re.findall(r"at\s+\S+\s*,\s*\S+|\S+\s*=\s*\S+|\S+", options):
        if at := _AT.match(option):
            entry["x"], entry["y"], placed = float(at[1]), float(at[2]), True
        elif (setting := _OPTION.match(option)) and setting[1] == "size":
            entry["size"] = float(setting[2])
        elif setting and entry["shape"] == "triangle":
            legs[setting[1]] = float(setting[2])
        else:
            raise InvalidBlockError(
                line, f"{_quoted(option)} is not a shape option: write 'at X,Y', 'size=N', or on a triangle 'a=N b=N'"
            )
    if legs:
        if len(legs) != 2:
            raise InvalidBlockError(line, "a right triangle needs both legs: write 'triangle ID a=3 b=4'")
        entry["shape"], entry["legs"] = "right_triangle", [legs["a"], legs["b"]]
        entry.setdefault("size", 3.0)
    return placed


def _in_a_row(shapes: list[dict[str, Any]]) -> None:
    """Shapes the lecturer did not place, side by side across the canvas's middle."""
    spacing = min(ROW_SPACING, 12.0 / max(len(shapes) - 1, 1))
    for index, shape in enumerate(shapes):
        shape["x"], shape["y"] = round((index - (len(shapes) - 1) / 2) * spacing, 3), 0.0


def timeline_visual(text: str, first_line: int) -> dict[str, Any]:
    """A ``timeline`` fence: one ``WHEN: WHAT`` a line, in the order written."""
    events: list[dict[str, str]] = []
    lines: dict[tuple[Any, ...], int] = {}
    for number, line in _lines(text, first_line):
        colon = _EVENT_COLON.search(line)
        when, label = (line[: colon.start()].strip(), line[colon.end() :].strip()) if colon else ("", "")
        if not when or not label:
            raise InvalidBlockError(
                number, f"{_quoted(line)} is not an event: write 'WHEN: WHAT', e.g. '1905: Special relativity'"
            )
        lines[("events", len(events))] = number
        events.append({"when": when, "label": label})
    where = first_line - 1
    if not L.TIMELINE_EVENTS_MIN <= len(events) <= L.TIMELINE_EVENTS_MAX:
        raise InvalidBlockError(
            where,
            f"a timeline holds {L.TIMELINE_EVENTS_MIN} to {L.TIMELINE_EVENTS_MAX} events, this one has {len(events)}: "
            + ("split it into two timeline blocks" if events else "write one 'WHEN: WHAT' a line"),
        )
    visual = {"kind": "timeline", "events": events}
    _validated(Timeline, visual, lines, where)
    return visual


def plot_visual(text: str, first_line: int) -> dict[str, Any]:
    """A ``plot`` fence: ``y = EXPRESSION`` plus optional ``x: A..B``, ``y: A..B`` and ``label: TEXT``."""
    visual: dict[str, Any] = {"kind": "function_plot"}
    lines: dict[tuple[Any, ...], int] = {}
    for number, line in _lines(text, first_line):
        if axis := _RANGE.match(line):
            name, low, high = axis.groups()
            visual[f"{name}_min"], visual[f"{name}_max"] = float(low), float(high)
            lines[(f"{name}_min",)] = lines[(f"{name}_max",)] = number
        elif curve := _CURVE.match(line):
            if "expression" in visual:
                raise InvalidBlockError(
                    number, "a plot draws one curve: put the second 'y = ...' in its own plot block"
                )
            expression = curve[1].strip()
            if len(expression) > L.EXPRESSION_MAX_CHARS:
                raise InvalidBlockError(
                    number,
                    f"an expression has at most {L.EXPRESSION_MAX_CHARS} characters (this one has {len(expression)})",
                )
            try:
                parse_expression(expression)
            except ExpressionError as error:
                raise InvalidBlockError(number, f"y = {expression}: {error}") from None
            visual["expression"], lines[("expression",)] = expression, number
        elif line.lower().startswith("label:"):
            visual["label"], lines[("label",)] = line[len("label:") :].strip(), number
        else:
            raise InvalidBlockError(
                number,
                f"{_quoted(line)} is not a plot line: write 'y = sin(x)', 'x: -3..3', 'y: -1..1' or 'label: TEXT'",
            )
    if "expression" not in visual:
        raise InvalidBlockError(first_line - 1, "the plot has no curve: write 'y = EXPRESSION', e.g. 'y = x^2'")
    ranges = {key: number for key, number in lines.items() if key[0].endswith(("_min", "_max"))}
    _validated(FunctionPlot, visual, {**lines, (): max(ranges.values(), default=first_line - 1)}, first_line - 1)
    return visual


def comparison_visuals(rows: list[list[str]], row_lines: list[int]) -> list[tuple[dict[str, Any], int]]:
    """A pipe table (its header row first) as comparison scenes of at most COMPARISON_ITEMS_MAX rows each,
    with the line of each one's first row. Cells are shown, not read out: the paragraphs around the
    table narrate it (a table read cell by cell, column after column, is no sentence)."""
    header, body = rows[0], rows[1:]
    columns = len(header)
    labelled = columns == 3 and not header[0]
    if columns != 2 and not labelled:
        first = " and a first heading" if columns == 3 else ""
        raise InvalidBlockError(
            row_lines[0],
            "a table becomes a comparison of two columns (or three, the first naming the rows and its header "
            f"cell empty); this one has {columns} column{'s' if columns != 1 else ''}{first}: "
            "split it, or write a list",
        )
    left_title, right_title = header[-2:]
    if not left_title or not right_title:
        raise InvalidBlockError(row_lines[0], "give both compared columns a heading in the table's first row")
    if not body:
        raise InvalidBlockError(row_lines[0], "the table has a heading row but no rows under it: add a row")
    for row, line in zip(rows, row_lines, strict=True):
        for cell in row:
            if len(cell) > L.ITEM_MAX_CHARS:
                raise InvalidBlockError(
                    line,
                    f"a table cell has at most {L.ITEM_MAX_CHARS} characters (this one has {len(cell)}): "
                    "shorten it, or say the rest in a paragraph",
                )
    scenes = []
    for start in range(0, len(body), L.COMPARISON_ITEMS_MAX):
        chunk, chunk_lines = body[start : start + L.COMPARISON_ITEMS_MAX], row_lines[1 + start :]
        left, right = [], []
        for row in chunk:
            name = f"{row[0]}: " if labelled and row[0] else ""
            left.append(f"{name}{row[-2] or '—'}")
            right.append(f"{name}{row[-1] or '—'}")
        visual = {
            "kind": "comparison",
            "left_title": left_title,
            "left_items": left,
            "right_title": right_title,
            "right_items": right,
        }
        lines = {
            (side, index): chunk_lines[index] for side in ("left_items", "right_items") for index in range(len(chunk))
        }
        _validated(
            Comparison, visual, {**lines, ("left_title",): row_lines[0], ("right_title",): row_lines[0]}, row_lines[0]
        )
        scenes.append((visual, chunk_lines[0]))
    return scenes
