"""The VideoJob spec the operator mounts into the Pod: which source, and the job's own settings.

The operator passes the spec as JSON in a file (a Markdown lecture can outgrow an
environment variable). This module reads it with the shared spec model and turns its
source into a storyboard; what the spec says about the render itself (quality, theme,
voice, language, LLM) is resolved with the settings in :mod:`videojob.renderer.config`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from videojob.contract import Usage
from videojob.markdown_lecture import lecture_of_spec
from videojob.renderer.config import LlmConfig
from videojob.renderer.errors import InvalidSourceError
from videojob.spec import VideoJobSpec
from videojob.storyboard import Storyboard, parse_storyboard


def read_spec(path: Path) -> VideoJobSpec:
    try:
        return VideoJobSpec.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InvalidSourceError(f"cannot read the VideoJob spec at {path}: {error}") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidSourceError(f"the VideoJob spec at {path} is invalid: {where}: {first['msg']}") from None


def storyboard_for(spec: VideoJobSpec, llm: LlmConfig) -> tuple[Storyboard, Usage]:
    """The storyboard the spec's source describes (before the spec's theme and language are applied)."""
    source = spec.source
    if (lecture := lecture_of_spec(spec)) is not None:
        return lecture, Usage()
    if source.storyboard is not None:
        return parse_storyboard(
            {"title": source.storyboard.title or "Untitled", "scenes": source.storyboard.scenes}
        ), Usage()
    from videojob.renderer.llm_source import storyboard_from_prompt

    brief = [source.prompt or "", f"Aim for about {spec.duration_seconds} seconds of narration in total."]
    if spec.audience:
        brief.append(f"The audience: {spec.audience}.")
    if spec.language != "en":
        brief.append(f"Write the narration in the language with code {spec.language}.")
    return storyboard_from_prompt("\n".join(brief), llm)
