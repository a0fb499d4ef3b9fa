"""One render's configuration, resolved once and frozen: what every stage is given.

In: the settings (``VIDEOJOB_*`` variables and CLI flags), the VideoJob spec when the
operator mounted one, and the storyboard (its language picks the offline voice). Out:
the storyboard as it will be drawn and a :class:`RenderConfig`. The precedence lives
here and nowhere else: the VideoJob spec wins over the settings (quality, theme other
than "default", voice, language other than "en", LLM model and endpoint), the settings
win over the defaults, and the voice chain is chosen by
:func:`~videojob.renderer.narration.choose_voices`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from videojob.quality import DEFAULT_ORIENTATION, Orientation, QualityName, QualityPreset, quality_preset
from videojob.renderer.errors import InvalidSourceError
from videojob.renderer.narration import OpenAISpeech, TtsVoice, choose_voices
from videojob.renderer.settings import RendererSettings
from videojob.renderer.storage import S3Access, parse_location
from videojob.s3 import job_output_prefix
from videojob.spec import VideoJobSpec
from videojob.storyboard import THEMES, Storyboard, parse_storyboard


@dataclass(frozen=True)
class LlmConfig:
    """The language model a prompt is sent to."""

    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    model: str = "gpt-4o-mini"
    timeout_seconds: float = 60.0
    max_retries: int = 4


@dataclass(frozen=True)
class RenderConfig:
    """Everything a render needs to know, decided before its first scene."""

    quality: QualityName
    voices: tuple[TtsVoice, ...]
    output: str  # file://DIR or s3://BUCKET[/PREFIX]
    output_prefix: str  # the exact key prefix of this job's files ("" for a folder)
    cache: str | None  # where the scene cache is; None: off
    s3: S3Access
    openai_speech: OpenAISpeech
    parallel_scenes: int
    work_dir: Path | None = None
    orientation: Orientation = DEFAULT_ORIENTATION

    @property
    def preset(self) -> QualityPreset:
        """The quality's picture and frame rate, turned upright for a portrait video."""
        return quality_preset(self.quality).oriented(self.orientation)

    @property
    def picture(self) -> str:
        """What the scene cache keys on for the picture: the quality, and the orientation when it is portrait."""
        return self.quality if self.orientation == DEFAULT_ORIENTATION else f"{self.quality}/{self.orientation}"

    @property
    def voice_chain(self) -> str:
        return ",".join(voice.spec for voice in self.voices)


def llm_config(settings: RendererSettings, spec: VideoJobSpec | None = None) -> LlmConfig:
    """The LLM a prompt goes to; needed before the storyboard exists, so resolved on its own."""
    return LlmConfig(
        api_key=settings.openai_api_key.get_secret_value() if settings.openai_api_key else None,
        base_url=(spec.llm.base_url if spec else None) or settings.llm_base_url,
        model=(spec.llm.model if spec else None) or settings.llm_model,
        timeout_seconds=settings.llm_timeout_seconds,
        max_retries=settings.llm_max_retries,
    )


def output_prefix(settings: RendererSettings) -> str:
    """The key prefix of this job's files: the operator's, else the one layout of :mod:`videojob.s3`."""
    if settings.output_prefix is not None:
        return settings.output_prefix.strip("/")
    scheme, _, prefix = parse_location(settings.output)
    if scheme == "file":
        return prefix
    return job_output_prefix(settings.namespace, settings.job_name, settings.job_uid, prefix).rstrip("/")


def cache_location(settings: RendererSettings) -> str | None:
    """The scene cache: as configured, else beside an S3 output, else under $XDG_CACHE_HOME; None when off."""
    if settings.cache == "off":
        return None
    if settings.cache is not None:
        return settings.cache
    scheme, bucket, _ = parse_location(settings.output)
    if scheme == "s3":
        return f"s3://{bucket}/cache"
    cache_home = Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser()
    return f"file://{cache_home / 'videojob' / 'renderer'}"


def _storyboard_as_drawn(storyboard: Storyboard, settings: RendererSettings, spec: VideoJobSpec | None) -> Storyboard:
    """The storyboard with the job's theme and language, validated again (a bad one is bad input)."""
    theme = spec.theme if spec and spec.theme != "default" else settings.theme
    if theme is not None and theme not in THEMES:
        raise InvalidSourceError(f"unknown theme {theme!r}; use one of: {', '.join(THEMES)}")
    update: dict[str, Any] = {"theme": theme} if theme else {}
    if spec and spec.language != "en":  # the CRD's default leaves a lecture's own language alone
        update["language"] = spec.language
    if not update or all(getattr(storyboard, name) == value for name, value in update.items()):
        return storyboard
    return parse_storyboard({**storyboard.model_dump(mode="json"), **update})


def resolve_config(
    settings: RendererSettings, storyboard: Storyboard, spec: VideoJobSpec | None = None
) -> tuple[Storyboard, RenderConfig]:
    """The storyboard as it will be drawn, and the frozen configuration to draw it with."""
    storyboard = _storyboard_as_drawn(storyboard, settings, spec)
    llm = llm_config(settings, spec)
    config = RenderConfig(
        quality=spec.quality if spec else settings.quality,
        voices=choose_voices(spec.voice if spec else settings.voice, storyboard.language),
        output=settings.output,
        output_prefix=output_prefix(settings),
        cache=cache_location(settings),
        s3=S3Access(
            settings.s3_endpoint,
            settings.s3_access_key,
            settings.s3_secret_key.get_secret_value(),
            settings.s3_region,
            settings.upload_attempts,
        ),
        openai_speech=OpenAISpeech(llm.api_key, llm.base_url, settings.tts_model, settings.tts_timeout_seconds),
        parallel_scenes=settings.parallel_scenes,
        work_dir=settings.work_dir,
        orientation=spec.orientation if spec else settings.orientation,
    )
    return storyboard, config
