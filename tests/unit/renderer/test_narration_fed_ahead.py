"""The narration track encoded while scenes are still drawn (renderer/assemble.py NarrationTrack,
renderer/join_ahead.py): the same track as one encoded at the end, whatever was fed early.

Real ffmpeg throughout (tiny scenes of a test pattern and tones).
"""

from __future__ import annotations

import json
import logging
import math
import struct
import subprocess
import time
import wave
from pathlib import Path

import pytest

from videojob.renderer.assemble import NarrationTrack, assemble_video, track_piece
from videojob.renderer.cache import CACHE_VERSION, SCENE_FILES, SceneCache, SceneEntry
from videojob.renderer.join_ahead import TrackFeeder, announce_speeches, planned_frames
from videojob.renderer.narration import SAMPLE_RATE, Narrator, Speech, TtsVoice
from videojob.renderer.stages import FinishedScene
from videojob.renderer.storage import S3Access
from videojob.storyboard import parse_storyboard

FPS = 15


def _tone(path: Path, seconds: float, pitch: float) -> Speech:
    samples = round(seconds * SAMPLE_RATE)
    with wave.open(str(path), "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(SAMPLE_RATE)
        clip.writeframes(b"".join(struct.pack("<h", round(8000 * math.sin(2 * math.pi * pitch * n / SAMPLE_RATE)))
                                  for n in range(samples)))  # fmt: skip
    return Speech(path, samples, "espeak:en-us")


def _scene(folder: Path, index: int, seconds: float) -> FinishedScene:
    folder.mkdir(parents=True)
    speech = _tone(folder / "speech.wav", seconds, 220 * (index + 1))
    frames = planned_frames(speech, FPS)
    video, picture = folder / "scene.mp4", folder / "last_frame.png"
    pattern = f"testsrc=size=64x48:rate={FPS}"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", pattern, "-frames:v", str(frames),
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", str(video)], check=True)  # fmt: skip
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-frames:v", "1", str(picture)], check=True)
    return FinishedScene(index, f"Scene {index}.", video, picture, speech, frames, cached=False)


@pytest.fixture
def scenes(tmp_path) -> list[FinishedScene]:
    return [_scene(tmp_path / f"scene-{n}", n, seconds) for n, seconds in enumerate((0.5, 1.2, 0.8))]


def _decoded_audio(video: Path) -> str:
    run = subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-map", "0:a", "-f", "md5", "-"],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return run.stdout.strip()


def _pieces(scenes: list[FinishedScene]) -> list[bytes]:
    return [track_piece(scene.speech.path, scene.frames, FPS) for scene in scenes]


def test_a_track_fed_while_drawing_gives_the_video_a_track_encoded_at_the_end_gives(scenes, tmp_path, caplog):
    at_the_end = assemble_video(scenes, FPS, tmp_path / "end")
    track = NarrationTrack(tmp_path / "early-track")
    for piece in _pieces(scenes)[:2]:  # the last scene still being drawn
        track.append(piece)
    with caplog.at_level(logging.INFO, logger="videojob.renderer"):
        early = assemble_video(scenes, FPS, tmp_path / "early", track)
    assert _decoded_audio(early.video) == _decoded_audio(at_the_end.video)
    assert early.duration_seconds == at_the_end.duration_seconds
    assert "2 of 3 scenes were fed to the encoder while they were drawn" in caplog.text
    assert "encoded again" not in caplog.text


def test_a_scene_that_came_out_other_than_announced_has_the_track_encoded_again(scenes, tmp_path, caplog):
    at_the_end = assemble_video(scenes, FPS, tmp_path / "end")
    track = NarrationTrack(tmp_path / "early-track")
    pieces = _pieces(scenes)
    track.append(pieces[0])
    track.append(track_piece(scenes[1].speech.path, scenes[1].frames + 3, FPS))  # planned 3 frames short
    with caplog.at_level(logging.WARNING, logger="videojob.renderer"):
        early = assemble_video(scenes, FPS, tmp_path / "early", track)
    assert "the narration is encoded again, whole" in caplog.text
    assert _decoded_audio(early.video) == _decoded_audio(at_the_end.video)


def test_a_piece_lasts_its_frames_with_the_speech_after_the_lead_in(tmp_path):
    speech = _tone(tmp_path / "speech.wav", 1.0, 440)
    frames = planned_frames(speech, FPS)
    assert frames == math.ceil((0.4 + 1.0 + 0.6) * FPS)  # timing.LEAD_IN + speech + timing.TAIL
    piece = track_piece(speech.path, frames, FPS)
    assert len(piece) == frames * (SAMPLE_RATE // FPS) * 2
    lead_in = round(0.4 * SAMPLE_RATE) * 2
    assert piece[:lead_in] == bytes(lead_in) and piece[lead_in : lead_in + 200] != bytes(200)


def test_the_feeder_takes_each_scene_in_order_from_whichever_comes_first(scenes, tmp_path):
    storyboard = parse_storyboard({"title": "T", "scenes": [
        {"narration": scene.narration, "visual": {"kind": "title_card", "title": f"S{scene.index}"}} for scene in scenes
    ]})  # fmt: skip
    keys = ["key-own", "key-announced", "key-cached"]
    cache = SceneCache.open(f"file://{tmp_path}/cache", S3Access(""), best_effort=False)
    other_pod = Narrator((TtsVoice("espeak", "en-us"),), {})
    announce_speeches(other_pod, cache, storyboard, keys, [1])  # index 0 speaks scene 2 and hands it over
    assert other_pod.on_spoken is not None
    other_pod.on_spoken(scenes[1].narration, scenes[1].speech)
    stored = {"video": scenes[2].video, "speech": scenes[2].speech.path, "last_frame": scenes[2].last_frame}
    entry = SceneEntry(version=CACHE_VERSION, files=SCENE_FILES, voice="espeak:en-us", frames=scenes[2].frames,
                       fps=FPS, speech_samples=scenes[2].speech.samples)  # fmt: skip
    cache.put_scene("key-cached", stored, entry)  # scene 3: already drawn and stored
    this_pod = Narrator((TtsVoice("espeak", "en-us"),), {})
    track = NarrationTrack(tmp_path / "track")
    with TrackFeeder(storyboard, keys, [0], FPS, cache, this_pod, track, tmp_path / "fed"):
        assert track.pieces == 0  # scene 1 is this Pod's own and not spoken yet: nothing after it goes first
        assert this_pod.on_spoken is not None
        this_pod.on_spoken(scenes[0].narration, scenes[0].speech)
        for _ in range(100):
            if track.pieces == 3:
                break
            time.sleep(0.05)
    assert track.pieces == 3
    assert all(track.fed_with(n, piece) for n, piece in enumerate(_pieces(scenes)))
    announced = json.loads((tmp_path / "cache" / "spoken" / "key-announced" / "manifest.json").read_text())
    assert announced == {"version": CACHE_VERSION, "voice": "espeak:en-us", "speechSamples": scenes[1].speech.samples}
    track.discard()
