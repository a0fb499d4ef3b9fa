"""Which voices speak a lecture: Piper for English, espeak-ng's voice of the language, bad input when there is none."""

import pytest

from videojob.contract import EXIT_BAD_INPUT, FailureReason
from videojob.renderer.errors import failure_for
from videojob.renderer.narration import choose_voices
from videojob.renderer.voice_languages import EspeakVoices, UnsupportedLanguageError
from videojob.spec import VoiceSpec

# Lines as espeak-ng 1.51 prints them (espeak-ng --voices), an MBROLA voice among them.
LISTING = """Pty Language       Age/Gender VoiceName          File                 Other Languages
 5  cmn             --/M      Chinese_(Mandarin,_latin_as_English) sit/cmn              (zh-cmn 5)(zh 5)
 5  cmn-latn-pinyin --/M      Chinese_(Mandarin,_latin_as_Pinyin) sit/cmn-Latn-pinyin  (zh-cmn 5)(zh 5)
 5  de              --/M      German             gmw/de
 2  en-gb           --/M      English_(Great_Britain) gmw/en               (en 2)
 5  en-us           --/M      English_(America)  gmw/en-US            (en 3)
 5  pt              --/M      Portuguese_(Portugal) roa/pt               (pt-pt 5)
 5  pt-br           --/M      Portuguese_(Brazil) roa/pt-BR            (pt 6)
 5  sw              --/M      swahili-mbrola-1   mb/mb-tz1
 5  yue             --/M      Chinese_(Cantonese) sit/yue              (zh-yue 5)(zh 8)
"""
VOICES = EspeakVoices.parse(LISTING)


def _chain(requested, language: str) -> list[str]:
    return [voice.spec for voice in choose_voices(requested, language)]


@pytest.mark.parametrize(
    ("language", "voice"),
    [
        ("de", "de"),
        ("de-AT", "de"),  # the last subtag dropped until a voice answers
        ("pt", "pt"),  # its own language beats pt-br's "(pt 6)"
        ("pt-BR", "pt-br"),
        ("pt-PT", "pt"),
        ("en", "en-us"),  # the Piper voice's accent, not espeak's priority (en-gb 2)
        ("zh", "cmn-latn-pinyin"),  # not cmn: 1.51 reads its tone digits in English
        ("zh-Hant-TW", "cmn-latn-pinyin"),
        ("zh-HK", "yue"),
        ("zh-yue", "yue"),
    ],
)
def test_a_language_tag_finds_the_voice_that_speaks_it(language, voice):
    assert VOICES.for_language(language) == voice


def test_mbrola_voices_are_not_offered_and_unknown_languages_find_none():
    assert VOICES.for_language("sw") is None  # its diphones are a separate download
    assert VOICES.for_language("tlh") is None


def test_named_voices_are_known_by_language_name_file_or_with_a_variant():
    assert all(VOICES.knows(name) for name in ("en-us", "gmw/en-US", "English_(America)", "en-us+f3", "en"))
    assert not VOICES.knows("xx-nonexistent")


def test_without_a_voice_english_is_spoken_by_piper_then_espeak_and_other_languages_by_espeak():
    assert _chain(None, "en") == ["piper:en_US-joe-medium", "espeak:en-us"]
    assert _chain(VoiceSpec(), "en-GB") == ["piper:en_US-joe-medium", "espeak:en-gb"]  # spec.voice omitted
    assert _chain(VoiceSpec(), "de") == ["espeak:de"]
    assert _chain(None, "zh") == ["espeak:cmn-latn-pinyin"]


def test_a_chosen_voice_keeps_the_offline_voices_of_the_language_after_it():
    assert _chain(VoiceSpec(provider="openai", name="nova"), "de") == ["openai:nova", "espeak:de"]
    assert _chain(VoiceSpec(provider="piper"), "en") == ["piper:en_US-joe-medium", "espeak:en-us"]
    assert _chain(VoiceSpec(provider="espeak"), "en") == ["espeak:en-us"]
    assert _chain("espeak:en-gb", "en") == ["espeak:en-gb"]  # a written chain is tried as written


def test_a_language_no_offline_voice_speaks_is_bad_input_that_says_what_to_do():
    with pytest.raises(UnsupportedLanguageError) as raised:
        choose_voices(None, "tlh")
    failure, exit_code = failure_for(raised.value)
    assert (failure.reason, exit_code) == (FailureReason.INVALID_SPEC, EXIT_BAD_INPUT)  # never retried
    assert "language 'tlh': espeak-ng, the offline narrator, has no voice for it" in failure.message
    assert "spec.voice.provider: openai" in failure.message and "spec.voice.provider: none" in failure.message


def test_an_openai_voice_may_speak_a_language_no_offline_voice_does():
    assert _chain(VoiceSpec(provider="openai"), "tlh") == ["openai:alloy"]
    assert _chain(VoiceSpec(provider="none"), "tlh") == ["none:silent"]
