"""Piper's en_US-joe-medium voice for real: it speaks English by default, and the subtitles follow its audio.

Everything is real: the voice's ONNX model from its package through onnxruntime, espeak-ng
for the phonemes, the `videojob render` CLI, Manim and ffmpeg.
"""

import json
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np

from videojob.renderer.config import resolve_config
from videojob.renderer.narration import SAMPLE_RATE, OpenAISpeech, build_narrator, choose_voices
from videojob.renderer.pipeline import scene_keys
from videojob.renderer.settings import RendererSettings
from videojob.renderer.timing import LEAD_IN, speech_chunks
from videojob.storyboard import parse_storyboard

from .test_lecture_to_mp4 import _cue_times

JOE = "piper:en_US-joe-medium"
STORYBOARD = {
    "title": "Forces",
    "scenes": [
        {"narration": "A force is a push or a pull.", "visual": {"kind": "title_card", "title": "Forces"}},
        {
            "narration": "When the forces on a body do not cancel, its motion changes. Double the mass, and it halves.",
            "visual": {"kind": "bullet_list", "bullets": ["Net force", "Mass"]},
        },
    ],
}


def test_joe_speaks_english_by_default_longer_text_for_longer_at_the_common_sample_rate(tmp_path):
    narrator = build_narrator(choose_voices(None, "en"), OpenAISpeech())
    short = narrator.speak("Hello.", tmp_path / "short.wav")
    long = narrator.speak("Hello. This sentence is a good deal longer than the first one.", tmp_path / "long.wav")
    assert short.voice == long.voice == JOE
    assert 0.3 < short.seconds < long.seconds < 10
    with wave.open(str(long.path)) as clip:
        assert (clip.getframerate(), clip.getnchannels(), clip.getsampwidth()) == (SAMPLE_RATE, 1, 2)
        samples = np.frombuffer(clip.readframes(clip.getnframes()), dtype="<i2")
    assert 10_000 < np.abs(samples).max() < 32767  # peak-normalised with headroom, never clipped flat


def _decoded_audio(video: Path, into: Path) -> np.ndarray:
    wav = into / "decoded.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-vn", "-ac", "1", str(wav)], check=True)
    with wave.open(str(wav)) as audio:
        assert audio.getframerate() == SAMPLE_RATE
        return np.frombuffer(audio.readframes(audio.getnframes()), dtype="<i2").astype(np.float32)


def _loudness(audio: np.ndarray, start: float, end: float) -> float:
    part = audio[round(start * SAMPLE_RATE) : round(end * SAMPLE_RATE)]
    return float(np.sqrt(np.mean(part**2)))


def test_each_scenes_cues_span_exactly_its_spoken_audio(render_cli, tmp_path):
    source, cache = tmp_path / "forces.json", tmp_path / "cache"
    source.write_text(json.dumps(STORYBOARD))
    run = render_cli(
        str(source), "--quality", "low", "-o", f"file://{tmp_path / 'out'}", env={"VIDEOJOB_CACHE": f"file://{cache}"}
    )
    assert run.returncode == 0, run.stderr

    storyboard, config = resolve_config(RendererSettings(quality="low"), parse_storyboard(STORYBOARD))
    assert config.voice_chain == f"{JOE},espeak:en-us"
    cues = _cue_times((tmp_path / "out" / "video.vtt").read_text())
    audio = _decoded_audio(tmp_path / "out" / "video.mp4", tmp_path)
    offset = 0.0
    for scene, key in zip(storyboard.scenes, scene_keys(storyboard, config), strict=True):
        entry = cache / "scenes" / key
        manifest = json.loads((entry / "manifest.json").read_text())
        assert manifest["voice"] == JOE
        with wave.open(str(entry / "speech.wav")) as speech:  # the clip the cues were made from
            speech_seconds = speech.getnframes() / SAMPLE_RATE
        assert manifest["speechSamples"] == round(speech_seconds * SAMPLE_RATE)
        own, cues = cues[: len(speech_chunks(scene.narration))], cues[len(speech_chunks(scene.narration)) :]
        start, end = offset + LEAD_IN, offset + LEAD_IN + speech_seconds
        assert abs(own[0][0] - start) <= 0.001 and abs(own[-1][1] - end) <= 0.001
        # In the video's own audio: quiet while the visual appears, Joe speaking inside the cues.
        assert _loudness(audio, offset + 0.02, start - 0.05) < 50
        assert _loudness(audio, start, end) > 500
        offset += manifest["frames"] / manifest["fps"]
    assert cues == []


SPEAK_IN_ANOTHER_PROCESS = """
import sys
from pathlib import Path
from videojob.renderer.narration import OpenAISpeech, build_narrator, choose_voices
narrator = build_narrator(choose_voices(None, "en"), OpenAISpeech())
for number, text in enumerate(sys.argv[2:]):
    narrator.speak(text, Path(sys.argv[1]) / f"{number}.wav")
"""
FIRST = "A force is a push or a pull. When the forces on a body do not cancel, its motion changes."
SECOND = "Double the mass, and the acceleration halves."


def _pcm(path: Path) -> bytes:
    with wave.open(str(path)) as clip:
        return clip.readframes(clip.getnframes())


def test_the_same_words_give_the_same_audio_in_another_process_and_in_any_order(tmp_path):
    """Joe's noise is drawn from a seed of each sentence, so a scene's audio (and so the cache, and every
    identical-output claim) does not depend on the process or on what was spoken before."""
    narrator = build_narrator(choose_voices(None, "en"), OpenAISpeech())
    here = [narrator.speak(text, tmp_path / f"here-{number}.wav") for number, text in enumerate((FIRST, SECOND))]
    assert {speech.voice for speech in here} == {JOE}
    there = tmp_path / "there"
    there.mkdir()
    script = [sys.executable, "-P", "-c", SPEAK_IN_ANOTHER_PROCESS, str(there), SECOND, FIRST]  # the other order
    subprocess.run(script, check=True, timeout=120)
    assert (there / "1.wav").read_bytes() == here[0].path.read_bytes()
    assert (there / "0.wav").read_bytes() == here[1].path.read_bytes()
    again = narrator.speak(FIRST, tmp_path / "again.wav")  # and later in the same worker
    assert again.path.read_bytes() == here[0].path.read_bytes()


def test_different_words_still_give_different_audio(tmp_path):
    narrator = build_narrator(choose_voices(None, "en"), OpenAISpeech())
    one = narrator.speak("The cart speeds up.", tmp_path / "one.wav")
    other = narrator.speak("The cart slows down.", tmp_path / "other.wav")
    assert one.voice == other.voice == JOE
    assert _pcm(one.path) != _pcm(other.path)


SPEAK_AND_SAY_WHERE = """
import json, sys
from pathlib import Path
from videojob.renderer import piper_worker
from videojob.renderer.narration import OpenAISpeech, build_narrator, choose_voices
narrator = build_narrator(choose_voices(None, "en"), OpenAISpeech())
first = narrator.speak("Spoken in the worker.", Path(sys.argv[1]) / "first.wav")
worker = piper_worker._WORKER._process
worker.kill()  # a worker that died is started again for the next narration
worker.wait()
second = narrator.speak("Spoken in a new worker.", Path(sys.argv[1]) / "second.wav")
print(json.dumps({"voices": [first.voice, second.voice], "onnxruntime_here": "onnxruntime" in sys.modules,
                  "worker": piper_worker._WORKER._process.pid}))
"""


def test_the_voice_runs_in_a_process_of_its_own_that_ends_with_the_renderer(tmp_path):
    run = subprocess.run(
        [sys.executable, "-P", "-c", SPEAK_AND_SAY_WHERE, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    said = json.loads(run.stdout.splitlines()[-1])
    assert said["voices"] == [JOE, JOE]
    assert said["onnxruntime_here"] is False  # the model never ran in the renderer's interpreter
    assert not Path(f"/proc/{said['worker']}").exists()  # closed when the renderer exited (and reaped)


def test_two_renders_of_one_storyboard_with_the_default_voice_give_the_same_speech_and_subtitles(render_cli, tmp_path):
    """What the scene cache and the fan-out's identical-output claim rest on, now with Joe: two renders on
    empty caches (so nothing is shared but the words) speak every scene with the same bytes."""
    source = tmp_path / "forces.json"
    source.write_text(json.dumps(STORYBOARD))
    renders = []
    for number in (1, 2):
        cache, out = tmp_path / f"cache-{number}", tmp_path / f"out-{number}"
        run = render_cli(
            str(source), "--quality", "low", "-o", f"file://{out}", env={"VIDEOJOB_CACHE": f"file://{cache}"}
        )
        assert run.returncode == 0, run.stderr
        renders.append((cache, out))
    (first_cache, first_out), (second_cache, second_out) = renders
    speeches = sorted(first_cache.glob("scenes/*/speech.wav"))
    assert len(speeches) == len(STORYBOARD["scenes"])
    for speech in speeches:
        assert json.loads((speech.parent / "manifest.json").read_text())["voice"] == JOE
        assert (second_cache / speech.relative_to(first_cache)).read_bytes() == speech.read_bytes()
    assert (first_out / "video.vtt").read_text() == (second_out / "video.vtt").read_text()
    assert _decoded_audio(first_out / "video.mp4", first_out).tobytes() == (
        _decoded_audio(second_out / "video.mp4", second_out).tobytes()
    )
