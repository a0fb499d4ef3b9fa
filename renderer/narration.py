"""Text to speech: espeak-ng (offline, the default) and OpenAI, behind one interface.

A voice chain such as ``openai:alloy,espeak:en-us`` is tried in order; the first
engine that produces audio wins, so an unreachable API degrades to the offline
voice instead of failing the job. Every clip is normalised to one format
(:data:`SAMPLE_RATE` Hz, mono, 16-bit PCM WAV) so scenes join without clicks and
sample counts add up exactly.
"""

from __future__ import annotations

import logging
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from videojob.renderer.errors import InvalidSourceError, NarrationError

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


def parse_voice_chain(spec: str) -> list[TtsVoice]:
    """``"openai:alloy,espeak:en-us"`` as voices; a bare name means espeak."""
    voices = []
    for part in (piece.strip() for piece in spec.split(",")):
        if not part:
            continue
        provider, _, name = part.partition(":") if ":" in part else ("espeak", "", part)
        if provider not in ("espeak", "openai", "none"):
            raise InvalidSourceError(f"unknown voice provider {provider!r} in {spec!r}; use espeak, openai or none")
        voices.append(TtsVoice(provider, name or ("en-us" if provider == "espeak" else "alloy")))
    if not voices:
        raise InvalidSourceError("the voice chain is empty")
    return voices


class Engine(Protocol):
    def synthesise(self, text: str, voice: TtsVoice, target: Path) -> None:
        """Write speech for ``text`` to ``target`` in any format ffmpeg reads."""


class EspeakEngine:
    def synthesise(self, text: str, voice: TtsVoice, target: Path) -> None:
        # Text goes on stdin, never on the command line, so it cannot be read as an option.
        run = subprocess.run(
            ["espeak-ng", "-v", voice.name, "-s", "165", "-w", str(target), "--stdin"],
            input=text.encode(), capture_output=True, timeout=120,
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


class OpenAIEngine:
    def __init__(self, api_key: str | None, base_url: str | None, model: str, timeout: float):
        self._api_key, self._base_url, self._model, self._timeout = api_key, base_url, model, timeout

    def synthesise(self, text: str, voice: TtsVoice, target: Path) -> None:
        if not self._api_key:
            raise NarrationError("no OpenAI API key configured for text-to-speech")
        import openai  # only when the chain asks for it

        client = openai.OpenAI(api_key=self._api_key, base_url=self._base_url, timeout=self._timeout, max_retries=2)
        try:
            response = client.audio.speech.create(model=self._model, voice=voice.name, input=text,
                                                  response_format="wav")
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

    def __init__(self, chain: list[TtsVoice], engines: dict[str, Engine]):
        self.chain = chain
        self._engines = engines
        self.characters = 0  # usage: characters sent to a speech engine

    def speak(self, text: str, target: Path) -> Speech:
        problems = []
        for voice in self.chain:
            with tempfile.TemporaryDirectory(prefix="tts-") as scratch:
                raw = Path(scratch) / "raw.wav"
                try:
                    self._engines[voice.provider].synthesise(text, voice, raw)
                    self.characters += len(text) if voice.provider != "none" else 0
                    normalise_audio(raw, target)
                except NarrationError as error:
                    log.warning("voice %s failed, trying the next: %s", voice.spec, error)
                    problems.append(f"{voice.spec}: {error}")
                    continue
            return Speech(target, wav_samples(target), voice.spec)
        raise NarrationError("no voice in the chain produced speech (" + "; ".join(problems) + ")")


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
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(source), "-ar", str(SAMPLE_RATE), "-ac", "1",
         "-sample_fmt", "s16", "-f", "wav", str(target)],
        capture_output=True, timeout=120,
    )
    if run.returncode != 0:
        raise NarrationError(f"could not normalise speech audio: {run.stderr.decode(errors='replace')[:200]}")


def _resample_pcm16(frames: bytes, rate: int, channels: int, target: Path) -> None:
    import numpy as np

    samples = np.frombuffer(frames, dtype="<i2").astype(np.float32)
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


def build_narrator(voice_chain: str, api_key: str | None, base_url: str | None, tts_model: str,
                   timeout: float) -> Narrator:
    engines: dict[str, Engine] = {
        "espeak": EspeakEngine(),
        "none": SilentEngine(),
        "openai": OpenAIEngine(api_key, base_url, tts_model, timeout),
    }
    return Narrator(parse_voice_chain(voice_chain), engines)
