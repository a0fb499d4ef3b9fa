"""The visuals a storyboard scene may show: a fixed catalogue of templates and their typed parameters.

Whoever writes a storyboard (a person, a Markdown lecture, a language model) can only choose one of
these and fill it in. Everything that will later reach TeX or the plotter is checked here, so a bad
visual fails validation (bad input, never retried) instead of failing half-way through a render.
The storyboard around them (scenes, title, theme, language) is :mod:`videojob.storyboard`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from videojob import limits as L
from videojob.diagram_geometry import drawn_on_top, moved_on_top
from videojob.expression import parse_expression
from videojob.latex_guard import check_latex

ShortText = Annotated[str, Field(min_length=1, max_length=L.TITLE_MAX_CHARS)]
ItemText = Annotated[str, Field(min_length=1, max_length=L.ITEM_MAX_CHARS)]

_CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*")
    @classmethod
    def _printable(cls, value: Any) -> Any:
        # Pango (titles), espeak (narration) and the subtitles would choke on them, or worse, retry.
        for text in value if isinstance(value, list) else [value]:
            found = _CONTROL_CHARACTER.search(text) if isinstance(text, str) else None
            if found:
                raise ValueError(f"control character U+{ord(found.group()):04X} is not allowed in text")
        return value


class TitleCard(StrictModel):
    """A large title with an optional subtitle."""

    kind: Literal["title_card"] = "title_card"
    title: ShortText
    subtitle: Annotated[str, Field(max_length=L.SUBTITLE_MAX_CHARS)] | None = None


class BulletList(StrictModel):
    """Bullets revealed one after another while the narration speaks."""

    kind: Literal["bullet_list"] = "bullet_list"
    heading: ShortText | None = None
    bullets: Annotated[list[ItemText], Field(min_length=1, max_length=L.BULLETS_MAX)]


class Equation(StrictModel):
    """One displayed equation in LaTeX math (no surrounding $), with an optional caption."""

    kind: Literal["equation"] = "equation"
    latex: Annotated[str, Field(min_length=1, max_length=L.LATEX_MAX_CHARS)]
    caption: Annotated[str, Field(max_length=L.CAPTION_MAX_CHARS)] | None = None

    @field_validator("latex")
    @classmethod
    def _safe_latex(cls, value: str) -> str:
        return check_latex(value)


class Comparison(StrictModel):
    """Two columns side by side, e.g. "Before" versus "After"."""

    kind: Literal["comparison"] = "comparison"
    left_title: ShortText
    left_items: Annotated[list[ItemText], Field(min_length=1, max_length=L.COMPARISON_ITEMS_MAX)]
    right_title: ShortText
    right_items: Annotated[list[ItemText], Field(min_length=1, max_length=L.COMPARISON_ITEMS_MAX)]


class FunctionPlot(StrictModel):
    """The graph of y = f(x); ``expression`` uses x, + - * / ^, pi, e and sin cos tan exp log sqrt abs..."""

    kind: Literal["function_plot"] = "function_plot"
    expression: Annotated[str, Field(min_length=1, max_length=L.EXPRESSION_MAX_CHARS)]
    x_min: float = -5.0
    x_max: float = 5.0
    y_min: float | None = None
    y_max: float | None = None
    label: Annotated[str, Field(max_length=L.PLOT_LABEL_MAX_CHARS)] | None = None

    @field_validator("expression")
    @classmethod
    def _parses(cls, value: str) -> str:
        parse_expression(value)
        return value

    @model_validator(mode="after")
    def _ranges(self) -> FunctionPlot:
        if not -1e6 < self.x_min < self.x_max < 1e6:
            raise ValueError("x_min must be less than x_max (both within ±1e6)")
        if (self.y_min is None) != (self.y_max is None):
            raise ValueError("give both y_min and y_max, or neither")
        if self.y_min is not None and not self.y_min < self.y_max:  # type: ignore[operator]
            raise ValueError("y_min must be less than y_max")
        return self


Leg = Annotated[float, Field(gt=0, le=L.DIAGRAM_LEG_MAX)]


class DiagramShape(StrictModel):
    """A labelled shape placed on a 14 x 8 canvas centred on (0, 0)."""

    id: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,30}$")]
    shape: Literal["circle", "square", "rectangle", "triangle", "right_triangle", "dot"] = "circle"
    label: Annotated[str, Field(max_length=L.DIAGRAM_LABEL_MAX_CHARS)] | None = None
    x: Annotated[float, Field(ge=-6.5, le=6.5)] = 0.0
    y: Annotated[float, Field(ge=-3.5, le=3.5)] = 0.0
    size: Annotated[float, Field(gt=0, le=4)] = 1.0
    # A right_triangle's two shorter sides, a (across) and b (up), in the lecture's units: drawn to
    # scale (the longer one ``size`` long) and labelled with c, the hypotenuse, computed.
    legs: tuple[Leg, Leg] | None = None

    @model_validator(mode="after")
    def _legs(self) -> DiagramShape:
        if (self.shape == "right_triangle") != (self.legs is not None):
            raise ValueError("a right_triangle needs legs [a, b], and only a right_triangle takes legs")
        if self.legs and max(self.legs) > L.DIAGRAM_LEG_RATIO_MAX * min(self.legs):
            raise ValueError(f"one leg may be at most {L.DIAGRAM_LEG_RATIO_MAX} times the other")
        return self


class DiagramArrow(StrictModel):
    """An arrow from one shape to another, optionally labelled."""

    source: str
    target: str
    label: Annotated[str, Field(max_length=L.DIAGRAM_LABEL_MAX_CHARS)] | None = None


class DiagramMotion(StrictModel):
    """A simple motion played after the diagram is drawn: move to a point, rotate, or pulse."""

    shape: str
    action: Literal["move", "rotate", "pulse"] = "move"
    x: Annotated[float, Field(ge=-6.5, le=6.5)] = 0.0
    y: Annotated[float, Field(ge=-3.5, le=3.5)] = 0.0


class Diagram(StrictModel):
    """Shapes, arrows between them, labels and simple motion."""

    kind: Literal["diagram"] = "diagram"
    shapes: Annotated[list[DiagramShape], Field(min_length=1, max_length=L.DIAGRAM_SHAPES_MAX)]
    arrows: Annotated[list[DiagramArrow], Field(max_length=L.DIAGRAM_ARROWS_MAX)] = []
    motions: Annotated[list[DiagramMotion], Field(max_length=L.DIAGRAM_MOTIONS_MAX)] = []

    @model_validator(mode="after")
    def _references(self) -> Diagram:
        ids = [shape.id for shape in self.shapes]
        if len(set(ids)) != len(ids):
            raise ValueError("shape ids must be unique")
        for arrow in self.arrows:
            for end in (arrow.source, arrow.target):
                if end not in ids:
                    raise ValueError(f"arrow refers to unknown shape {end!r}")
        for motion in self.motions:
            if motion.shape not in ids:
                raise ValueError(f"motion refers to unknown shape {motion.shape!r}")
        for one, other in drawn_on_top(self.shapes):  # a shape may hold or overlap another, not hide it
            raise ValueError(
                f"shapes.{other} ({ids[other]!r}) is drawn on top of shapes.{one} ({ids[one]!r}): same place, "
                f"same size; give {ids[other]!r} its own x and y (or a different size)"
            )
        for number, arrow in enumerate(self.arrows):
            if arrow.source == arrow.target:
                raise _problem_at(
                    ("arrows", number),
                    arrow,
                    f"the arrow goes from {arrow.source!r} to itself",
                    "arrow_to_itself",
                    "point it at another shape, or remove it",
                )
        for number, other in moved_on_top(self.shapes, self.motions):
            motion = self.motions[number]
            raise _problem_at(
                ("motions", number),
                motion,
                f"moving {motion.shape!r} to ({motion.x:g}, {motion.y:g}) puts it on top of shapes.{other} "
                f"({ids[other]!r}): same place, same size",
                "motion_ends_on_top",
                f"move {motion.shape!r} to another x and y",
            )
        return self


def _problem_at(
    where: tuple[str | int, ...], given: BaseModel, problem: str, kind: str, advice: str
) -> ValidationError:
    """A problem of one item of the diagram, located at that item (``motions.2``, not the whole diagram), so that
    the storyboard's message and a Markdown lecture's line both name it."""
    error = PydanticCustomError(kind, "{problem}: {advice}", {"problem": problem, "advice": advice})
    return ValidationError.from_exception_data(
        "Diagram", [InitErrorDetails(type=error, loc=where, input=given.model_dump())]
    )


class TimelineEvent(StrictModel):
    when: Annotated[str, Field(min_length=1, max_length=L.TIMELINE_WHEN_MAX_CHARS)]
    label: Annotated[str, Field(min_length=1, max_length=L.TIMELINE_LABEL_MAX_CHARS)]


class Timeline(StrictModel):
    """Events along a horizontal line, in the order given."""

    kind: Literal["timeline"] = "timeline"
    events: Annotated[list[TimelineEvent], Field(min_length=L.TIMELINE_EVENTS_MIN, max_length=L.TIMELINE_EVENTS_MAX)]


class CodeListing(StrictModel):
    """A short syntax-highlighted code listing (shown, never run)."""

    kind: Literal["code"] = "code"
    code: Annotated[str, Field(min_length=1, max_length=L.CODE_MAX_CHARS)]
    language: Annotated[str, Field(pattern=r"^[a-z0-9+#-]{1,20}$")] = "python"

    @field_validator("code")
    @classmethod
    def _fits(cls, value: str) -> str:
        lines = value.splitlines()
        if len(lines) > L.CODE_MAX_LINES:
            raise ValueError(f"a code listing has at most {L.CODE_MAX_LINES} lines")
        if max(len(line) for line in lines) > L.CODE_MAX_COLUMNS:
            raise ValueError(f"code lines are at most {L.CODE_MAX_COLUMNS} characters")
        return value


class KeyTakeaways(StrictModel):
    """The points to remember, usually the last scene."""

    kind: Literal["key_takeaways"] = "key_takeaways"
    # Left out, it is "Key takeaways" in the storyboard's language (videojob/frame_words.py).
    heading: ShortText | None = None
    points: Annotated[list[ItemText], Field(min_length=1, max_length=L.TAKEAWAYS_MAX)]


Visual = Annotated[
    TitleCard | BulletList | Equation | Comparison | FunctionPlot | Diagram | Timeline | CodeListing | KeyTakeaways,
    Field(discriminator="kind"),
]
VISUAL_KINDS = (
    "title_card",
    "bullet_list",
    "equation",
    "comparison",
    "function_plot",
    "diagram",
    "timeline",
    "code",
    "key_takeaways",
)


__all__ = [
    "VISUAL_KINDS",
    "BulletList",
    "CodeListing",
    "Comparison",
    "Diagram",
    "DiagramArrow",
    "DiagramMotion",
    "DiagramShape",
    "Equation",
    "FunctionPlot",
    "ItemText",
    "KeyTakeaways",
    "ShortText",
    "StrictModel",
    "Timeline",
    "TimelineEvent",
    "TitleCard",
    "Visual",
]
