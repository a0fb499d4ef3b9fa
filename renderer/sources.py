"""Where a storyboard comes from: a Markdown lecture, a storyboard file, a prompt, or the VideoJob spec."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from videojob.contract import Usage
from videojob.markdown_lecture import markdown_to_storyboard
from videojob.renderer.config import LlmConfig, RenderConfig, llm_config, resolve_config
from videojob.renderer.errors import InvalidSourceError
from videojob.renderer.settings import RendererSettings
from videojob.spec import VideoJobSpec
from videojob.storyboard import Storyboard, parse_storyboard

MARKDOWN_SUFFIXES = {".md", ".markdown", ".txt"}
STORYBOARD_SUFFIXES = {".json", ".yaml", ".yml"}


@dataclass(frozen=True)
class RenderJob:
    """What to render and how: the storyboard as it will be drawn, its LLM usage, the resolved config."""

    storyboard: Storyboard
    usage: Usage
    config: RenderConfig


def resolve_job(source: Path | None, prompt: str | None, settings: RendererSettings) -> RenderJob:
    """The storyboard, its LLM usage, and the one configuration to render it with.

    With neither SOURCE nor --prompt, the VideoJob spec file the operator mounted is the source.
    """
    spec: VideoJobSpec | None = None
    if source is None and prompt is None and settings.spec_file is not None:
        from videojob.renderer import spec_source

        spec = spec_source.read_spec(settings.spec_file)
        storyboard, usage = spec_source.storyboard_for(spec, llm_config(settings, spec))
    else:
        storyboard, usage = load_storyboard(source, prompt, llm_config(settings))
    storyboard, config = resolve_config(settings, storyboard, spec)
    return RenderJob(storyboard, usage, config)


def load_storyboard(source: Path | None, prompt: str | None, llm: LlmConfig) -> tuple[Storyboard, Usage]:
    """The validated storyboard and the LLM usage it cost (zero unless a prompt was used)."""
    if (source is None) == (prompt is None):
        raise InvalidSourceError(
            "give exactly one source: a Markdown or storyboard file, or --prompt TEXT (or set VIDEOJOB_SPEC_FILE)"
        )
    if source is None:
        from videojob.renderer.llm_source import storyboard_from_prompt  # openai is imported only when needed

        return storyboard_from_prompt(prompt or "", llm)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidSourceError(f"cannot read {source}: {error}") from None
    suffix = source.suffix.lower()
    if suffix in MARKDOWN_SUFFIXES:
        return markdown_to_storyboard(text), Usage()
    if suffix in STORYBOARD_SUFFIXES:
        return parse_storyboard(_structured(text, suffix, source)), Usage()
    raise InvalidSourceError(f"{source}: unknown source type {suffix!r}; use .md, .json or .yaml")


def _structured(text: str, suffix: str, source: Path) -> dict[str, Any]:
    try:
        data = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise InvalidSourceError(f"{source} is not valid {suffix[1:].upper()}: {error}") from None
    except RecursionError:  # both parsers recurse; no storyboard nests this deep
        raise InvalidSourceError(f"{source} is not valid {suffix[1:].upper()}: it nests too deeply") from None
    if not isinstance(data, dict):
        raise InvalidSourceError(f"{source} must hold one storyboard object")
    return data
