"""The storyboard: what a video says and shows, scene by scene.

A storyboard is data drawn by a fixed catalogue of scene templates (:mod:`videojob.visuals`);
whoever wrote it (a person, a Markdown lecture, a language model) can only choose templates
and fill in their typed parameters. This module holds the whole: scenes in order, the title,
theme and language, the flat form the VideoJob CRD writes, and the messages that tell an
author what to fix.

``storyboard_json_schema()`` is the published schema (also written to
``videojob/schemas/storyboard.v1.json`` by ``write_schema``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final, Literal, get_args

from pydantic import Field, ValidationError, model_validator

from videojob import limits as L
from videojob.expression import ExpressionError
from videojob.frame_words import takeaways_heading
from videojob.latex_guard import UnsafeLatexError
from videojob.visuals import (
    VISUAL_KINDS,
    BulletList,
    CodeListing,
    Comparison,
    Diagram,
    DiagramArrow,
    DiagramMotion,
    DiagramShape,
    Equation,
    FunctionPlot,
    KeyTakeaways,
    ShortText,
    StrictModel,
    Timeline,
    TimelineEvent,
    TitleCard,
    Visual,
)

STORYBOARD_KIND: Final = "storyboard/v1"
SCHEMA_PATH = Path(__file__).parent / "schemas" / "storyboard.v1.json"

ThemeName = Literal["default", "physics", "math", "chemistry", "biology", "history"]
THEME_NAMES: tuple[ThemeName, ...] = get_args(ThemeName)


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


class Scene(StrictModel):
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


class Storyboard(StrictModel):
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
    "Visual",
    "parse_storyboard",
    "plain_message",
    "storyboard_json_schema",
    "validation_messages",
    "write_schema",
]
