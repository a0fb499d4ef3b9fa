"""Text to speech: Piper (offline, neural), espeak-ng (offline) and OpenAI, behind one interface.

The voices a render speaks with are chosen in one place, :func:`choose_voices`. A
chain such as ``openai:alloy,piper:en_US-joe-medium,espeak:en-us`` is tried in order;
the first engine that produces audio wins, so an unreachable API degrades to the offline
voice instead of failing the job. A voice that fails is not tried again in the same
render: a down endpoint costs one timeout rather than one per scene, and the video
speaks with one voice throughout. Every clip is normalised to one format
(:data:`SAMPLE_RATE` Hz, mono, 16-bit PCM WAV) so scenes join without clicks and
sample counts add up exactly.

Without a chosen voice an English lecture is spoken by Piper's ``en_US-joe-medium``
(espeak-ng after it, should it fail), any other language by espeak-ng's voice for it
(:mod:`~videojob.renderer.voice_languages`); a language no offline voice speaks is bad input.
"""

from __future__ import annotations

import itertools
import logging
import subprocess
import tempfile
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from videojob.renderer.errors import InvalidSourceError, NarrationError
from videojob.renderer.piper_voice import DEFAULT_PIPER_VOICE, check_piper_voice
from videojob.renderer.piper_worker import PiperEngine
from videojob.renderer.voice_languages import (
    UnsupportedLanguageError,
    espeak_voice_for,
    installed_espeak_voices,
    is_english,
)
from videojob.spec import VoiceSpec

# A clip that takes longer than this to speak is logged: a sentence takes espeak milliseconds and Piper
# well under a second a core, so seconds mean a stall worth seeing in the log.
SLOW_SPEECH_SECONDS = 5.0
SAMPLE_RATE = 48_000  # AAC frames are 1024 samples: at 48 kHz that is 21 ms of rounding, well inside 50 ms
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TtsVoice:
    """One link of the chain: an engine and its voice name."""

    provider: str
    name: str

    @property
    def spec(self) -> str:
        return f"{self.provider}:{self.name}"


PROVIDERS = ("piper", "espeak", "openai", "none")
DEFAULT_OPENAI_VOICE = "alloy"


def offline_voices(language: str) -> tuple[TtsVoice, ...]:
    """The voices that speak ``language`` without a network: Piper for English, then espeak-ng."""
    espeak = TtsVoice("espeak", espeak_voice_for(language))
    return (TtsVoice("piper", DEFAULT_PIPER_VOICE), espeak) if is_english(language) else (espeak,)


def parse_voice_chain(chain: str, language: str = "en") -> tuple[TtsVoice, ...]:
    """``"openai:alloy,espeak:en-us"`` as voices; a bare voice name means espeak. Without a name, espeak
    speaks ``language``, piper is en_US-joe-medium and openai is alloy. Unknown voices are bad input."""
    voices = []
    for part in (piece.strip() for piece in chain.split(",")):
        if not part:
            continue
        if ":" in part:
            provider, _, name = part.partition(":")
        else:  # "openai" alone is that provider's default voice; any other bare word is an espeak voice
            provider, name = (part, "") if part in PROVIDERS else ("espeak", part)
        voices.append(_voice(provider, name, language, chain))
    if not voices:
        raise InvalidSourceError("the voice chain is empty")
    return tuple(voices)


def _voice(provider: str, name: str, language: str, chain: str) -> TtsVoice:
    if provider == "piper":
        check_piper_voice(name or DEFAULT_PIPER_VOICE)
        return TtsVoice(provider, name or DEFAULT_PIPER_VOICE)
    if provider == "espeak":
        if name and not installed_espeak_voices().knows(name):
            raise InvalidSourceError(f"espeak-ng has no voice {name!r} (in {chain!r}); espeak-ng --voices lists them")
        return TtsVoice(provider, name or espeak_voice_for(language))
    if provider == "openai":
        return TtsVoice(provider, name or DEFAULT_OPENAI_VOICE)
    if provider == "none":
        return TtsVoice(provider, name or "silent")
    raise InvalidSourceError(f"unknown voice provider {provider!r} in {chain!r}; use {', '.join(PROVIDERS)}")


def choose_voices(requested: str | VoiceSpec | None, language: str) -> tuple[TtsVoice, ...]:
    """The voices a render speaks with, in the order they are tried; decided here and nowhere else.

    * a chain as written (``--voice``, ``VIDEOJOB_VOICE``) is tried as written;
    * a VideoJob's ``spec.voice`` is that one voice, and after an OpenAI or Piper voice the
      offline voices of the language, so a down API degrades the narration instead of failing
      the job (an OpenAI voice speaks any language: it keeps only the offline voices there are);
    * nothing requested (or a spec voice without a provider): the offline voices of the language.
    """
    if requested is None or (isinstance(requested, VoiceSpec) and requested.provider is None):
        return offline_voices(language)
    if isinstance(requested, str):
        return parse_voice_chain(requested, language)
    chosen = parse_voice_chain(f"{requested.provider}:{requested.name or ''}", language)
    if requested.provider not in ("openai", "piper"):
        return chosen
    try:
        fallbacks = offline_voices(language)
    except UnsupportedLanguageError:
        return chosen  # no offline voice speaks it; the voice asked for may
    return chosen + tuple(voice for voice in fallbacks if voice not in chosen)


class Engine(Protocol):
    def synthesise(self, text: str, voice: TtsVoice, target: Path) -> None:
        """Write speech for ``text`` to ``target`` in any format ffmpeg reads."""


class EspeakEngine:
    def synthesise(self, text: str, voice: TtsVoice, target: Path) -> None:
        # Text goes on stdin, never on the command line, so it cannot be read as an option.
        run = subprocess.run(
            ["espeak-ng", "-v", voice.name, "-s", "165", "-w", str(target), "--stdin"],
            input=text.encode(),
            capture_output=True,
            timeout=120,
        )
        if run.returncode != 0 or not target.exists() or target.stat().st_size < 100:
            raise NarrationError(f"espeak-ng failed: {run.stderr.decode(errors='replace').strip()[:200]}")


class SilentEngine:
    """No voice: silence as long as the words would take to read, so scenes keep their pacing."""

    WORDS_PER_SECOND = 2.6

    def synthesise(self, text: str, voice: TtsVoice, target: Path) -> None:
        seconds = max(1.0, len(text.split()) / self.WORDS_PER_SECOND)
        with wave.open(str(target), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(SAMPLE_RATE)
            out.writeframes(b"\0\0" * round(seconds * SAMPLE_RATE))


@dataclass(frozen=True)
class OpenAISpeech:
    """Where OpenAI (or a compatible server) speaks, resolved once per render."""

    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    model: str = "gpt-4o-mini-tts"
    timeout_seconds: float = 60.0


class OpenAIEngine:
    def __init__(self, service: OpenAISpeech):
        self._service = service

    def synthesise(self, text: str, voice: TtsVoice, target: Path) -> None:
        service = self._service
        if not service.api_key:
            raise NarrationError("no OpenAI API key configured for text-to-speech")
        import openai  # only when the chain asks for it

        client = openai.OpenAI(
            api_key=service.api_key, base_url=service.base_url, timeout=service.timeout_seconds, max_retries=2
        )
        try:
            response = client.audio.speech.create(
                model=service.model, voice=voice.name, input=text, response_format="wav"
            )
            target.write_bytes(response.read())
        except openai.OpenAIError as error:
            raise NarrationError(f"OpenAI text-to-speech failed: {error}") from error


@dataclass(frozen=True)
class Speech:
    """A normalised clip: the path and its exact length in samples."""

    path: Path
    samples: int
    voice: str

    @property
    def seconds(self) -> float:
        return self.samples / SAMPLE_RATE


class Narrator:
    """Speaks text through the voice chain, returning normalised clips."""

    def __init__(self, chain: tuple[TtsVoice, ...], engines: dict[str, Engine]):
        self.chain = chain
        self._engines = engines
        self._failed: dict[str, str] = {}  # voice -> why, for the rest of this render
        self.characters = 0  # usage: characters sent to a speech engine
        # Told of every clip as soon as it exists (text, clip): a fan-out's share hands its speech over early.
        self.on_spoken: Callable[[str, Speech], None] | None = None

    @property
    def first_choice(self) -> str:
        return self.chain[0].spec

    def prepare(self) -> None:
        """Start the first choice's engine now (Piper's worker loads its model) if it can be; never fails."""
        voice = self.chain[0]
        prepare = getattr(self._engines[voice.provider], "prepare", None)
        if prepare is not None:
            try:
                prepare(voice)
            except NarrationError as error:  # speaking will fail the same way, and fall back then
                log.warning("voice %s could not be prepared: %s", voice.spec, error)

    def close(self) -> None:
        """Stop what the engines started (Piper's worker), so its CPU time is counted in this render's usage."""
        for engine in self._engines.values():
            close = getattr(engine, "close", None)
            if close is not None:
                close()

    def speak(self, text: str, target: Path) -> Speech:
        """``text`` spoken by the first voice of the chain that works."""
        speech = self._speak(text, target, self.chain)
        if speech is None:
            problems = "; ".join(f"{voice}: {why}" for voice, why in self._failed.items())
            raise NarrationError(f"no voice in the chain produced speech ({problems})")
        return speech

    def speak_better_than(self, voice: str, text: str, target: Path) -> Speech | None:
        """``text`` spoken by a voice the chain prefers to ``voice``, or None when none of them works now."""
        better = tuple(itertools.takewhile(lambda link: link.spec != voice, self.chain))
        return self._speak(text, target, better) if len(better) < len(self.chain) else None

    def _speak(self, text: str, target: Path, voices: tuple[TtsVoice, ...]) -> Speech | None:
        for voice in voices:
            if voice.spec in self._failed:
                continue
            with tempfile.TemporaryDirectory(prefix="tts-") as scratch:
                raw = Path(scratch) / "raw.wav"
                began = time.monotonic()
                try:
                    self._engines[voice.provider].synthesise(text, voice, raw)
                    if (took := time.monotonic() - began) > SLOW_SPEECH_SECONDS:  # a stall, told apart from S3's
                        log.info("voice %s took %.1f s for %d characters", voice.spec, took, len(text))
                    self.characters += len(text) if voice.provider != "none" else 0
                    normalise_audio(raw, target)
                except NarrationError as error:
                    log.warning("voice %s failed, not trying it again in this render: %s", voice.spec, error)
                    self._failed[voice.spec] = str(error)
                    continue
            speech = Speech(target, wav_samples(target), voice.spec)
            if self.on_spoken is not None:
                self.on_spoken(text, speech)
            return speech
        return None


def normalise_audio(source: Path, target: Path) -> None:
    """``source`` as mono 16-bit PCM at SAMPLE_RATE: in-process for PCM WAV (what both engines give),
    else through ffmpeg. Starting ffmpeg costs more than resampling a sentence."""
    try:
        with wave.open(str(source), "rb") as clip:
            rate, channels, width = clip.getframerate(), clip.getnchannels(), clip.getsampwidth()
            frames = clip.readframes(clip.getnframes())
    except (wave.Error, EOFError):
        rate = width = 0
    if width == 2 and rate > 0:
        _resample_pcm16(frames, rate, channels, target)
        return
    run = subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-i",
            str(source),
            "-ar",
            str(SAMPLE_RATE),
            "-ac",
            "1",
            "-sample_fmt",
            "s16",
            "-f",
            "wav",
            str(target),
        ],
        capture_output=True,
        timeout=120,
    )
    if run.returncode != 0:
        raise NarrationError(f"could not normalise speech audio: {run.stderr.decode(errors='replace')[:200]}")


def _resample_pcm16(frames: bytes, rate: int, channels: int, target: Path) -> None:
    import numpy as np

    samples: np.ndarray = np.frombuffer(frames, dtype="<i2").astype(np.float32)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    if rate != SAMPLE_RATE and samples.size:
        # Band-limited resampling in the frequency domain: no aliasing (unlike linear interpolation)
        # and no scipy import (seconds) on the narration path.
        length = round(samples.size * SAMPLE_RATE / rate)
        samples = np.fft.irfft(np.fft.rfft(samples), length) * (length / samples.size)
    pcm = np.clip(np.round(samples), -32768, 32767).astype("<i2")
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm.tobytes())


def wav_samples(path: Path) -> int:
    with wave.open(str(path), "rb") as clip:
        return clip.getnframes()


def write_track(target: Path, pieces: list[tuple[Path | None, int, int]]) -> int:
    """One mono WAV from ``(clip or None, silence_before, total_samples)`` pieces; returns its sample count.

    Each piece is padded (or trimmed) to exactly ``total_samples`` so the track lines up
    with the scene videos frame for frame.
    """
    written = 0
    with wave.open(str(target), "wb") as track:
        track.setnchannels(1)
        track.setsampwidth(2)
        track.setframerate(SAMPLE_RATE)
        for clip, lead_in, total in pieces:
            audio = b"\0\0" * lead_in
            if clip is not None:
                with wave.open(str(clip), "rb") as source:
                    audio += source.readframes(source.getnframes())
            audio = audio[: total * 2].ljust(total * 2, b"\0")
            track.writeframes(audio)
            written += total
    return written


def build_narrator(voices: tuple[TtsVoice, ...], openai_speech: OpenAISpeech) -> Narrator:
    engines: dict[str, Engine] = {
        "piper": PiperEngine(),
        "espeak": EspeakEngine(),
        "none": SilentEngine(),
        "openai": OpenAIEngine(openai_speech),
    }
    return Narrator(voices, engines)
