"""An S3 operation or a clip of speech that takes seconds is logged with what it was and how long it took.

A render that stood still for 27 s while narrating its first scene (a fan-out share, which
hands each clip over through S3 as it is spoken) left no trace in its log: nothing failed or
was retried. Now the log says whether the voice or the request was slow.
"""

import logging
import time
import wave

from videojob.renderer import narration, storage
from videojob.renderer.narration import Narrator, TtsVoice
from videojob.renderer.storage import S3Store


def test_an_operation_slower_than_the_threshold_is_logged(monkeypatch, caplog):
    monkeypatch.setattr(storage, "SLOW_SECONDS", 0.05)
    store = S3Store(client=None, bucket="videos")
    with caplog.at_level(logging.INFO, logger=storage.__name__):

        def slow_upload() -> str:
            time.sleep(0.1)
            return "done"

        assert store._retrying("uploading s3://videos/a.wav", slow_upload) == "done"
        store._retrying("checking s3://videos/b.json", lambda: None)
    slow = [record.getMessage() for record in caplog.records]
    assert len(slow) == 1 and slow[0].startswith("uploading s3://videos/a.wav took 0.1 s")


class _SlowVoice:
    """An engine that takes 0.1 s for a 0.1 s clip of silence."""

    def synthesise(self, text, voice, target):
        time.sleep(0.1)
        with wave.open(str(target), "wb") as clip:
            clip.setnchannels(1)
            clip.setsampwidth(2)
            clip.setframerate(22050)
            clip.writeframes(b"\0\0" * 2205)


def test_a_clip_slower_than_the_threshold_is_logged_with_its_voice(monkeypatch, caplog, tmp_path):
    monkeypatch.setattr(narration, "SLOW_SPEECH_SECONDS", 0.05)
    narrator = Narrator((TtsVoice("espeak", "en-us"),), {"espeak": _SlowVoice()})
    with caplog.at_level(logging.INFO, logger=narration.__name__):
        speech = narrator.speak("Light is a wave.", tmp_path / "speech.wav")
    assert speech.voice == "espeak:en-us"
    assert [record.getMessage()[:28] for record in caplog.records] == ["voice espeak:en-us took 0.1 "]
