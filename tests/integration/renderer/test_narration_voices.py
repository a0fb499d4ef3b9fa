"""Narration: espeak-ng offline, OpenAI text-to-speech through the real client, and the fallback chain.

Piper's voice has its own file, test_piper_voice.py."""

import wave

import pytest

from videojob.renderer.errors import InvalidSourceError, NarrationError
from videojob.renderer.narration import SAMPLE_RATE, OpenAISpeech, build_narrator, parse_voice_chain

from .conftest import tone_wav


def _narrator(chain: str, stub=None, key: str | None = "sk-test"):
    service = OpenAISpeech(api_key=key, base_url=stub.base_url if stub else None, model="tts-test", timeout_seconds=10)
    return build_narrator(parse_voice_chain(chain), service)


def test_espeak_speaks_longer_text_for_longer_and_at_the_common_sample_rate(tmp_path):
    narrator = _narrator("espeak:en-us", key=None)
    short = narrator.speak("Hello.", tmp_path / "short.wav")
    long = narrator.speak("Hello. This sentence is a good deal longer than the first one.", tmp_path / "long.wav")
    assert 0.3 < short.seconds < long.seconds < 10
    with wave.open(str(long.path)) as clip:
        assert (clip.getframerate(), clip.getnchannels(), clip.getsampwidth()) == (SAMPLE_RATE, 1, 2)
    assert narrator.characters == len("Hello.") + len("Hello. This sentence is a good deal longer than the first one.")


def test_openai_speech_is_used_first_and_resampled(openai_stub, tmp_path):
    openai_stub.replies.append((200, tone_wav(1.5)))
    speech = _narrator("openai:nova,espeak:en-us", openai_stub).speak("Hi there.", tmp_path / "a.wav")
    assert speech.voice == "openai:nova"
    assert speech.samples == pytest.approx(1.5 * SAMPLE_RATE, abs=SAMPLE_RATE * 0.01)
    request = openai_stub.requests[0]
    assert request["path"] == "/v1/audio/speech"
    assert (request["json"]["voice"], request["json"]["input"], request["json"]["model"]) == (
        "nova",
        "Hi there.",
        "tts-test",
    )


def test_a_failing_engine_falls_back_to_the_next_voice_and_is_not_asked_again_in_the_render(openai_stub, tmp_path):
    for _ in range(3):
        openai_stub.reply_error(500, "tts down")
    narrator = _narrator("openai:alloy,espeak:en-us", openai_stub)
    speech = narrator.speak("Fallback works.", tmp_path / "b.wav")
    assert speech.voice == "espeak:en-us" and speech.seconds > 0.3
    asked = len(openai_stub.requests)  # the client's own retries of one request
    assert narrator.speak("The next scene.", tmp_path / "c.wav").voice == "espeak:en-us"
    assert len(openai_stub.requests) == asked  # one down endpoint costs one timeout, not one per scene


def test_when_every_voice_fails_the_error_lists_each(tmp_path):
    with pytest.raises(NarrationError, match=r"openai:alloy: no OpenAI API key.*openai:nova: no OpenAI API key"):
        _narrator("openai:alloy,openai:nova", key=None).speak("x", tmp_path / "c.wav")


def test_voice_chains_parse_and_unknown_providers_and_voices_are_bad_input():
    assert [v.spec for v in parse_voice_chain("openai:alloy, en-gb")] == ["openai:alloy", "espeak:en-gb"]
    assert [v.spec for v in parse_voice_chain("openai,espeak", language="de")] == ["openai:alloy", "espeak:de"]
    assert [v.spec for v in parse_voice_chain("piper,espeak")] == ["piper:en_US-joe-medium", "espeak:en-us"]
    with pytest.raises(InvalidSourceError, match="unknown voice provider 'polly'"):
        parse_voice_chain("polly:joanna")
    with pytest.raises(InvalidSourceError, match="espeak-ng has no voice 'xx-nonexistent'"):
        parse_voice_chain("openai:alloy,espeak:xx-nonexistent")
    with pytest.raises(InvalidSourceError, match="unknown Piper voice 'en_GB-alan-low'; use one of: en_US-joe-medium"):
        parse_voice_chain("piper:en_GB-alan-low")
