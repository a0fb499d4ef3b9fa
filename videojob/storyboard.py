"""The storyboard: what a video says and shows, scene by scene.

A storyboard is data drawn by a fixed catalogue of scene templates; whoever wrote it
(a person, a Markdown lecture, a language model) can only choose templates and fill
in their typed parameters. Everything that will later reach TeX or the plotter is
checked here, so a bad storyboard fails validation (bad input, never retried)
instead of failing half-way through a render.

``storyboard_json_schema()`` is the published schema (also written to
``videojob/schemas/storyboard.v1.json`` by ``write_schema``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from videojob import limits as L
from videojob.diagram_geometry import drawn_on_top
from videojob.expression import ExpressionError, parse_expression
from videojob.frame_words import takeaways_heading
from videojob.latex_guard import UnsafeLatexError, check_latex

STORYBOARD_KIND: Final = "storyboard/v1"
SCHEMA_PATH = Path(__file__).parent / "schemas" / "storyboard.v1.json"

ThemeName = Literal["default", "physics", "math", "chemistry", "biology", "history"]
THEME_NAMES: tuple[ThemeName, ...] = get_args(ThemeName)

ShortText = Annotated[str, Field(min_length=1, max_length=L.TITLE_MAX_CHARS)]
ItemText = Annotated[str, Field(min_length=1, max_length=L.ITEM_MAX_CHARS)]


class InvalidStoryboardError(ValueError):
    """The storyboard does not validate; ``errors`` lists each problem as "where: what"."""

    def __init__(self, errors: list[str], summary: str = "invalid storyboard"):
        self.errors = errors
        super().__init__(f"{summary}: " + "; ".join(errors))


@dataclass(frozen=True)
class Palette:
    """Colours of one theme, as hex strings Manim understands."""

    background: str
    text: str
    accent: str
    secondary: str
    muted: str


THEMES: dict[str, Palette] = {
    "default": Palette(background="#1E1E2E", text="#ECEFF4", accent="#88C0D0", secondary="#EBCB8B", muted="#8A92A3"),
    "physics": Palette(background="#0B1D33", text="#E6F1FF", accent="#4FC3F7", secondary="#FFB74D", muted="#6C8EAD"),
    "math": Palette(background="#1B1B1B", text="#F5F5F5", accent="#FF7043", secondary="#80CBC4", muted="#8A8A8A"),
    "chemistry": Palette(background="#102A1E", text="#EAF7EE", accent="#66BB6A", secondary="#CE93D8", muted="#7FA08A"),
    "biology": Palette(background="#13261A", text="#F1F8E9", accent="#9CCC65", secondary="#F06292", muted="#8BA58F"),
    "history": Palette(background="#2B2118", text="#F4E9D8", accent="#D4A373", secondary="#A3B18A", muted="#9C8B76"),
}


_CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class _Strict(BaseModel):
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


class TitleCard(_Strict):
    """A large title with an optional subtitle."""

    kind: Literal["title_card"] = "title_card"
    title: ShortText
    subtitle: Annotated[str, Field(max_length=L.SUBTITLE_MAX_CHARS)] | None = None


class BulletList(_Strict):
    """Bullets revealed one after another while the narration speaks."""

    kind: Literal["bullet_list"] = "bullet_list"
    heading: ShortText | None = None
    bullets: Annotated[list[ItemText], Field(min_length=1, max_length=L.BULLETS_MAX)]


class Equation(_Strict):
    """One displayed equation in LaTeX math (no surrounding $), with an optional caption."""

    kind: Literal["equation"] = "equation"
    latex: Annotated[str, Field(min_length=1, max_length=L.LATEX_MAX_CHARS)]
    caption: Annotated[str, Field(max_length=L.CAPTION_MAX_CHARS)] | None = None

    @field_validator("latex")
    @classmethod
    def _safe_latex(cls, value: str) -> str:
        return check_latex(value)


class Comparison(_Strict):
    """Two columns side by side, e.g. "Before" versus "After"."""

    kind: Literal["comparison"] = "comparison"
    left_title: ShortText
    left_items: Annotated[list[ItemText], Field(min_length=1, max_length=L.COMPARISON_ITEMS_MAX)]
    right_title: ShortText
    right_items: Annotated[list[ItemText], Field(min_length=1, max_length=L.COMPARISON_ITEMS_MAX)]


class FunctionPlot(_Strict):
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


class DiagramShape(_Strict):
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


class DiagramArrow(_Strict):
    """An arrow from one shape to another, optionally labelled."""

    source: str
    target: str
    label: Annotated[str, Field(max_length=L.DIAGRAM_LABEL_MAX_CHARS)] | None = None


class DiagramMotion(_Strict):
    """A simple motion played after the diagram is drawn: move to a point, rotate, or pulse."""

    shape: str
    action: Literal["move", "rotate", "pulse"] = "move"
    x: Annotated[float, Field(ge=-6.5, le=6.5)] = 0.0
    y: Annotated[float, Field(ge=-3.5, le=3.5)] = 0.0


class Diagram(_Strict):
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
        return self


class TimelineEvent(_Strict):
    when: Annotated[str, Field(min_length=1, max_length=L.TIMELINE_WHEN_MAX_CHARS)]
    label: Annotated[str, Field(min_length=1, max_length=L.TIMELINE_LABEL_MAX_CHARS)]


class Timeline(_Strict):
    """Events along a horizontal line, in the order given."""

    kind: Literal["timeline"] = "timeline"
    events: Annotated[list[TimelineEvent], Field(min_length=L.TIMELINE_EVENTS_MIN, max_length=L.TIMELINE_EVENTS_MAX)]


class CodeListing(_Strict):
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


class KeyTakeaways(_Strict):
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


# The VideoJob CRD writes a scene flat, its template named by ``template`` (e.g. the samples'
# ``{template: bullets, title: ..., bullets: [...], narration: ...}``); these are the names it may use.
TEMPLATE_NAMES = {
    "title": "title_card",
    "title_card": "title_card",
    "bullets": "bullet_list",
    "bullet_list": "bullet_list",
    "equation": "equation",
    "comparison": "comparison",
    "plot": "function_plot",
    "function_plot": "function_plot",
    "diagram": "diagram",
    "timeline": "timeline",
    "code": "code",
    "takeaways": "key_takeaways",
    "key_takeaways": "key_takeaways",
}
_TITLE_BECOMES = {"bullet_list": "heading", "key_takeaways": "heading", "equation": "caption", "function_plot": "label"}


def _unflatten_scene(data: dict[str, Any]) -> dict[str, Any]:
    """``{template, narration, **fields}`` as ``{narration, visual: {kind, **fields}}``."""
    fields = {key: value for key, value in data.items() if key not in ("template", "narration")}
    kind = TEMPLATE_NAMES.get(str(data["template"]), str(data["template"]))
    if kind != "title_card" and "title" in fields:
        title = fields.pop("title")
        if kind in _TITLE_BECOMES:  # templates without a title show it where they can
            fields.setdefault(_TITLE_BECOMES[kind], title)
    return {"narration": data.get("narration"), "visual": {"kind": kind, **fields}}


class Scene(_Strict):
    """What is said (narration) and what is shown (one visual) for one stretch of the video.

    The flat form the VideoJob CRD uses (``template`` plus the template's fields) is accepted too.
    """

    narration: Annotated[str, Field(min_length=1, max_length=L.NARRATION_MAX_CHARS)]
    visual: Visual

    @model_validator(mode="before")
    @classmethod
    def _flat_form(cls, data: Any) -> Any:
        if isinstance(data, dict) and "template" in data and "visual" not in data:
            return _unflatten_scene(data)
        return data


class Storyboard(_Strict):
    """A whole video: a title, a theme, and its scenes in order."""

    videojob: Literal["storyboard/v1"] = STORYBOARD_KIND
    title: ShortText
    theme: ThemeName = "default"
    language: Annotated[str, Field(max_length=L.LANGUAGE_MAX_CHARS, pattern=L.LANGUAGE_TAG_PATTERN)] = "en"
    scenes: Annotated[list[Scene], Field(min_length=L.SCENES_MIN, max_length=L.SCENES_MAX)]

    @model_validator(mode="after")
    def _takeaways_in_its_language(self) -> Storyboard:
        # The one heading a template would add by itself, in the lecture's language, never English by default.
        heading = takeaways_heading(self.language)
        scenes = [
            scene.model_copy(update={"visual": scene.visual.model_copy(update={"heading": heading})})
            if isinstance(scene.visual, KeyTakeaways) and scene.visual.heading is None and heading
            else scene
            for scene in self.scenes
        ]
        object.__setattr__(self, "scenes", scenes)  # still frozen to callers: only validation fills it in
        return self

    @property
    def palette(self) -> Palette:
        return THEMES[self.theme]


def storyboard_json_schema() -> dict[str, Any]:
    """The published JSON schema of :class:`Storyboard`."""
    schema = Storyboard.model_json_schema()
    schema["$id"] = "https://videojob.dev/schemas/storyboard.v1.json"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def write_schema(path: Path = SCHEMA_PATH) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(storyboard_json_schema(), indent=2, sort_keys=True) + "\n")
    return path


# What a list field holds, in the words of the message when it has too many or too few.
_HOLDERS: dict[str, tuple[str, str]] = {
    "scenes": ("a video", "scenes"),
    "bullets": ("a bullet list", "bullets"),
    "points": ("a key-takeaways card", "points"),
    "left_items": ("a comparison column", "items"),
    "right_items": ("a comparison column", "items"),
    "events": ("a timeline", "events"),
    "shapes": ("a diagram", "shapes"),
    "arrows": ("a diagram", "arrows"),
    "motions": ("a diagram", "motions"),
}
_ADVICE = {"scenes": ": split it into shorter videos", "narration": ": split it across scenes"}


def plain_message(item: Any) -> str:
    """One pydantic problem (an entry of ``ValidationError.errors()``) in words an author can act on,
    naming the limit from :mod:`videojob.limits` and what was given."""
    kind, ctx, loc = item["type"], item.get("ctx") or {}, item["loc"]
    name = str(loc[-1]) if loc else "storyboard"
    given = item.get("input")
    if kind in ("too_long", "too_short") and name in _HOLDERS:
        holder, things = _HOLDERS[name]
        if kind == "too_long":
            return (
                f"{holder} holds at most {ctx['max_length']} {things}, this one has {ctx['actual_length']}"
                f"{_ADVICE.get(name, '')}"
            )
        least = ctx["min_length"]
        return (
            f"{holder} needs at least {least} {things[:-1] if least == 1 else things}, this one has "
            f"{ctx['actual_length']}"
        )
    if kind == "string_too_long":
        length = f" (this one has {len(given)})" if isinstance(given, str) else ""
        return f"at most {ctx['max_length']} characters{length}{_ADVICE.get(name, '')}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        return f"{given!r} is not allowed here (the form is {ctx['pattern']})"
    if kind == "literal_error":
        return f"{given!r} is not one of {ctx['expected']}"
    if kind == "union_tag_invalid":
        return f"unknown kind {ctx['tag']!r}; use one of {ctx['expected_tags']}"
    if kind == "extra_forbidden":
        return f"{name!r} is not a field here; remove it"
    if kind == "missing":
        return "is required"
    return str(item["msg"]).removeprefix("Value error, ")


def validation_messages(error: ValidationError) -> list[str]:
    """One "where: what" line per problem, in words a storyboard author can act on."""
    messages = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "storyboard"
        messages.append(f"{where}: {plain_message(item)}")
    return messages


def parse_storyboard(data: str | bytes | dict[str, Any]) -> Storyboard:
    """A validated storyboard from JSON text or a mapping, else :class:`InvalidStoryboardError`."""
    try:
        if isinstance(data, (str, bytes)):
            return Storyboard.model_validate_json(data)
        return Storyboard.model_validate(data)
    except ValidationError as error:
        raise InvalidStoryboardError(validation_messages(error)) from None


__all__ = [
    "THEMES",
    "VISUAL_KINDS",
    "BulletList",
    "CodeListing",
    "Comparison",
    "Diagram",
    "DiagramArrow",
    "DiagramMotion",
    "DiagramShape",
    "Equation",
    "ExpressionError",
    "FunctionPlot",
    "InvalidStoryboardError",
    "KeyTakeaways",
    "Palette",
    "Scene",
    "Storyboard",
    "Timeline",
    "TimelineEvent",
    "TitleCard",
    "UnsafeLatexError",
    "parse_storyboard",
    "plain_message",
    "storyboard_json_schema",
    "validation_messages",
    "write_schema",
]
