"""Which offline voice speaks a lecture's language: Piper's for English, espeak-ng's for the rest.

espeak-ng says which languages it speaks (``espeak-ng --voices``): each voice has a
language and, with a priority, other tags it answers to (``en-gb`` also answers to
``en``). A BCP 47 tag is looked up as written, then with its last subtag dropped, until
one matches (``zh-Hant-TW``, ``zh-Hant``, ``zh``). MBROLA voices are left out: their
diphone databases are separate downloads the renderer image does not have.

Two choices are made here rather than left to espeak-ng's priorities:

* plain ``en`` is American English (``en-us``), the accent of the Piper voice before it;
* Mandarin (``zh``, ``zh-cmn``, ``cmn``) is espeak-ng's ``cmn-latn-pinyin`` voice: its
  plain ``cmn`` voice in espeak-ng 1.51 (Debian 12) reads every character's tone digit
  aloud in English ("ni three hao three"; espeak-ng issue 1028), while the pinyin variant
  says the tones. Hong Kong and Macau Chinese is read in Cantonese (``yue``).

A language no offline voice speaks is bad input, reported before anything is drawn
(:class:`UnsupportedLanguageError`: not retried, the message names the language and
what to do), rather than an espeak-ng failure that the Job would retry in vain.
"""

from __future__ import annotations

import functools
import re
import subprocess
from dataclasses import dataclass, field

from videojob.renderer.errors import InvalidSourceError, NarrationError

ENGLISH_ESPEAK_VOICE = "en-us"
PREFERRED_ESPEAK_VOICES = {
    "en": ENGLISH_ESPEAK_VOICE,
    "zh": "cmn-latn-pinyin",
    "zh-cmn": "cmn-latn-pinyin",
    "cmn": "cmn-latn-pinyin",
    "zh-hk": "yue",
    "zh-mo": "yue",
}
_OTHER_LANGUAGE = re.compile(r"\(([^ ()]+) (\d+)\)")


class UnsupportedLanguageError(InvalidSourceError):
    """No voice the chain may use speaks the lecture's language."""


@dataclass(frozen=True)
class EspeakVoices:
    """What ``espeak-ng --voices`` lists: names ``-v`` takes, and which voice answers to which tag."""

    names: frozenset[str]
    # tag -> (priority, voice): the voice's own language at priority 0, its other tags at theirs
    by_language: dict[str, tuple[int, str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, listing: str) -> EspeakVoices:
        names: set[str] = set()
        by_language: dict[str, tuple[int, str]] = {}
        for line in listing.splitlines()[1:]:
            parts = line.split(None, 5)
            if len(parts) < 5:
                continue
            language, voice_name, file = parts[1].lower(), parts[3].lower(), parts[4].lower()
            if file.startswith("mb/"):
                continue
            names |= {language, voice_name, file, file.rpartition("/")[2]}
            others = _OTHER_LANGUAGE.findall(parts[5]) if len(parts) > 5 else []
            answers = [(language, 0)] + [(tag.lower(), int(priority)) for tag, priority in others]
            for tag, priority in answers:
                if tag not in by_language or priority < by_language[tag][0]:
                    by_language[tag] = (priority, language)
        return cls(frozenset(names), by_language)

    def knows(self, voice: str) -> bool:
        """Whether ``-v voice`` names a voice (a ``+variant`` suffix, such as ``+f3``, is allowed)."""
        return voice.lower().partition("+")[0] in self.names

    def for_language(self, language: str) -> str | None:
        """The voice for a BCP 47 tag, or None when espeak-ng speaks no form of it."""
        subtags = language.lower().split("-")
        for length in range(len(subtags), 0, -1):
            tag = "-".join(subtags[:length])
            if tag in PREFERRED_ESPEAK_VOICES:
                return PREFERRED_ESPEAK_VOICES[tag]
            if tag in self.by_language:
                return self.by_language[tag][1]
        return None


@functools.cache
def installed_espeak_voices() -> EspeakVoices:
    """The voices of the espeak-ng on this machine, asked once per process."""
    try:
        listing = subprocess.run(["espeak-ng", "--voices"], capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError) as error:
        raise NarrationError(f"espeak-ng, the offline voice, cannot be run: {error}") from error
    return EspeakVoices.parse(listing.stdout)


def is_english(language: str) -> bool:
    return language.lower().split("-")[0] == "en"


def espeak_voice_for(language: str, voices: EspeakVoices | None = None) -> str:
    """espeak-ng's voice for ``language``; :class:`UnsupportedLanguageError` when it has none."""
    found = (voices or installed_espeak_voices()).for_language(language)
    if found is None:
        raise UnsupportedLanguageError(
            f"language {language!r}: espeak-ng, the offline narrator, has no voice for it. Set the "
            "language to one it speaks (espeak-ng --voices lists them), choose an OpenAI voice "
            "(spec.voice.provider: openai; --voice openai), or make a silent video with subtitles "
            "(spec.voice.provider: none; --voice none)"
        )
    return found
