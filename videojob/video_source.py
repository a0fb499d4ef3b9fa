"""spec.source, what a video is about: a prompt, a Markdown lecture or an inline storyboard.

Part of the VideoJob spec model (:mod:`videojob.spec` assembles it and re-exports these
names). The inline storyboard is typed loosely here, with the bounds the CRD enforces at
admission; :class:`videojob.storyboard.Storyboard` validates its scenes in depth when the
renderer reads them.
"""

from __future__ import annotations

from typing import Annotated, Literal, Required

from pydantic import AfterValidator, ConfigDict, Field, model_validator, with_config
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from videojob import limits as L
from videojob.latex_guard import ADMISSION_MESSAGE, admission_rule, check_scene_latex
from videojob.spec_model import SpecModel, immutable
from videojob.storyboard import TEMPLATE_NAMES
from videojob.structural import Rule, kube

# The Python validator raises this rule's words too, so both say the same.
EXACTLY_ONE_SOURCE = Rule(
    "(has(self.prompt) ? 1 : 0) + (has(self.markdown) ? 1 : 0) + (has(self.storyboard) ? 1 : 0) == 1",
    "spec.source must set exactly one of prompt, markdown or storyboard",
)


def _known_template(name: str) -> str:
    if name not in TEMPLATE_NAMES:
        raise ValueError(f"unknown scene template {name!r}; use one of {', '.join(sorted(TEMPLATE_NAMES))}")
    return name


@with_config(
    ConfigDict(
        extra="allow",
        json_schema_extra=kube(preserve_unknown_fields=True) | {"minProperties": 1, "maxProperties": L.SCENE_MAX_KEYS},
    )
)
class SceneSpec(TypedDict, total=False):
    """One scene; its template key names the scene template."""

    template: Annotated[
        str,
        AfterValidator(_known_template),
        Field(
            description="The scene template, for example title, bullets or equation. A scene may instead "
            "give its visual whole, as {narration, visual: {kind, ...}}.",
            json_schema_extra={"enum": sorted(TEMPLATE_NAMES)},
        ),
    ]
    narration: Required[
        Annotated[
            str,
            Field(
                min_length=1,
                max_length=L.NARRATION_MAX_CHARS,
                description=f"What is said during the scene, at most {L.NARRATION_MAX_CHARS:,} characters.",
            ),
        ]
    ]
    # Typed so that admission's CEL can see it (a scene's other keys are unknown fields, which CEL
    # cannot read); the first wall only: the spec model runs the whole LaTeX guard.
    latex: Annotated[
        str,
        Field(
            max_length=L.LATEX_MAX_CHARS,
            description="An equation scene's LaTeX math (no surrounding $), math only: no commands that "
            f"read or write files, load fonts or define macros; at most {L.LATEX_MAX_CHARS:,} characters.",
            json_schema_extra=kube(Rule(admission_rule(), ADMISSION_MESSAGE)),
        ),
    ]


class StoryboardSpec(SpecModel):
    """The storyboard as the VideoJob carries it: scenes typed loosely here, validated in depth by
    :class:`videojob.storyboard.Storyboard` when the renderer reads them."""

    title: Annotated[str, Field(max_length=L.TITLE_MAX_CHARS)] | None = Field(
        None, description="The video's title, shown on the first frame and in metadata."
    )
    # Equations get the LaTeX guard here, where the VideoJob is written, not only in the renderer.
    scenes: Annotated[
        list[Annotated[SceneSpec, AfterValidator(check_scene_latex)]],
        Field(min_length=L.SCENES_MIN, max_length=L.SCENES_MAX),
    ] = Field(
        description=f"The scenes in order, {L.SCENES_MIN} to {L.SCENES_MAX}. Each scene is an object with a "
        "template name and that template's fields (see the renderer's storyboard schema); "
        f"at most {L.SCENE_MAX_KEYS} keys per scene."
    )


class Source(SpecModel):
    model_config = ConfigDict(
        json_schema_extra=kube(
            EXACTLY_ONE_SOURCE,
            Rule(
                "has(self.prompt) == has(oldSelf.prompt) && has(self.markdown) == has(oldSelf.markdown)"
                " && has(self.storyboard) == has(oldSelf.storyboard)",
                "spec.source is immutable; create a new VideoJob to render another source",
            ),
        )
    )

    prompt: Annotated[str, Field(min_length=L.PROMPT_MIN_CHARS, max_length=L.PROMPT_MAX_CHARS)] | None = Field(
        None,
        description='A topic in plain words, for example "Explain Newton\'s second law to high-school students". '
        f"An LLM (spec.llm) writes the storyboard. {L.PROMPT_MIN_CHARS} to {L.PROMPT_MAX_CHARS:,} characters. "
        "Immutable.",
        json_schema_extra=kube(
            immutable("spec.source.prompt"),
            Rule(
                f"self.trim().size() >= {L.PROMPT_MIN_CHARS}",
                f"spec.source.prompt must have at least {L.PROMPT_MIN_CHARS} characters besides spaces",
            ),
        ),
    )
    markdown: Annotated[str, Field(min_length=1, max_length=L.MARKDOWN_MAX_CHARS)] | None = Field(
        None,
        description="A lecture in Markdown, turned into scenes without an LLM: each heading starts a scene, "
        "bullets become lists, $$...$$ becomes typeset math and paragraphs become narration. "
        f"At most {L.MARKDOWN_MAX_CHARS:,} characters. A lecture that cannot become a video (an unsafe equation, "
        "more scenes than a video holds, a line that does not parse) is refused before any Pod starts, naming "
        "the line: the gateway answers 422, and a VideoJob applied directly fails at once with reason "
        "InvalidStoryboard. Immutable.",
        json_schema_extra=kube(
            immutable("spec.source.markdown"),
            Rule(
                "self.matches('(?m)^#{1,3} ')",
                "spec.source.markdown needs at least one heading (# Title) to start a scene",
            ),
        ),
    )
    storyboard: StoryboardSpec | None = Field(
        None,
        description="The storyboard itself: a title and a list of scenes drawn from the renderer's catalogue "
        "of scene templates. The renderer validates each scene in depth and fails the job with reason "
        "InvalidStoryboard when one is wrong. Immutable.",
        json_schema_extra=kube(immutable("spec.source.storyboard")),
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Source:
        chosen = [name for name in ("prompt", "markdown", "storyboard") if getattr(self, name) is not None]
        if len(chosen) != 1:
            raise ValueError(EXACTLY_ONE_SOURCE.message)
        return self

    @property
    def kind(self) -> Literal["prompt", "markdown", "storyboard"]:
        if self.prompt is not None:
            return "prompt"
        return "markdown" if self.markdown is not None else "storyboard"
