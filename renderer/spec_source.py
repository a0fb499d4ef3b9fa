"""The VideoJob spec the operator mounts into the Pod: which source, and the job's own settings.

The operator passes the spec as JSON in a file (a Markdown lecture can outgrow an
environment variable). This module reads it with the shared spec model and turns
it into what the rest of the renderer already understands: a storyboard, and
settings overridden by the spec (quality, theme, voice chain, LLM).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from videojob.contract import Usage
from videojob.renderer.errors import InvalidSourceError
from videojob.renderer.markdown_source import markdown_to_storyboard
from videojob.renderer.settings import RendererSettings
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


def voice_chain(spec: VideoJobSpec) -> str:
    """The spec's voice first; an OpenAI voice falls back to the offline one rather than failing the job."""
    offline = "espeak:" + ("en-us" if spec.language in ("en", "en-US") else spec.language.lower())
    if spec.voice.provider == "none":
        return "none:silent"
    if spec.voice.provider == "openai":
        return f"openai:{spec.voice.name or 'alloy'},{offline}"
    return f"espeak:{spec.voice.name}" if spec.voice.name else offline


def settings_for(spec: VideoJobSpec, settings: RendererSettings) -> RendererSettings:
    update = {"quality": spec.quality, "voice": voice_chain(spec)}
    if spec.llm.model:
        update["llm_model"] = spec.llm.model
    if spec.llm.base_url:
        update["llm_base_url"] = spec.llm.base_url
    return settings.model_copy(update=update)


def storyboard_for(spec: VideoJobSpec, settings: RendererSettings) -> tuple[Storyboard, Usage]:
    source = spec.source
    if source.markdown is not None:
        # The spec's theme wins, except the CRD's "default" when the lecture names its own.
        return markdown_to_storyboard(source.markdown, theme=None if spec.theme == "default" else spec.theme), Usage()
    if source.storyboard is not None:
        return parse_storyboard({"title": source.storyboard.title or "Untitled", "theme": spec.theme,
                                 "language": spec.language, "scenes": source.storyboard.scenes}), Usage()
    from videojob.renderer.llm_source import storyboard_from_prompt  # noqa: PLC0415 - openai only when needed

    brief = [source.prompt or "", f"Aim for about {spec.duration_seconds} seconds of narration in total."]
    if spec.audience:
        brief.append(f"The audience: {spec.audience}.")
    if spec.language != "en":
        brief.append(f"Write the narration in the language with code {spec.language}.")
    storyboard, usage = storyboard_from_prompt("\n".join(brief), settings)
    return storyboard.model_copy(update={"theme": spec.theme}) if spec.theme != "default" else storyboard, usage
