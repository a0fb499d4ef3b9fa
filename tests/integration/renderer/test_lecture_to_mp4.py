"""The example lecture becomes a real MP4; a crashed render resumes; an identical re-run renders nothing.

One lecture, three runs, sharing one scene cache:
1. killed (SIGKILL) as soon as its first scene is finished, as a node failure would;
2. re-run: it resumes, rendering only the scenes the first run did not finish;
3. re-run again: every scene comes from the cache.
"""

import itertools
import json
import os
import signal
import subprocess
import wave
from pathlib import Path

import pytest

from support import REPO_ROOT
from videojob.contract import EXIT_SUCCESS, Result, parse_progress_line
from videojob.markdown_lecture import markdown_to_storyboard

from .conftest import VIDEOJOB

LECTURE = REPO_ROOT / "examples" / "lecture.md"


def _probe(path: Path) -> dict:
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type,codec_name,duration",
            "-show_entries",
            "format=duration",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {s["codec_type"]: s for s in json.loads(out)["streams"]}


def _cue_times(text: str) -> list[tuple[float, float, str]]:
    def seconds(stamp: str) -> float:
        hours, minutes, rest = stamp.replace(",", ".").split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(rest)

    cues = []
    for block in text.strip().split("\n\n"):
        lines = block.splitlines()
        for index, line in enumerate(lines):
            if " --> " in line:
                start, end = line.split(" --> ")
                cues.append((seconds(start), seconds(end), " ".join(lines[index + 1 :])))
    return cues


@pytest.fixture(scope="module")
def lecture_runs(tmp_path_factory):
    """The three runs; each entry is (returncode, termination message, stdout) plus the output folder."""
    base = tmp_path_factory.mktemp("lecture")
    cache, out = base / "cache", base / "out"
    env = {
        **os.environ,
        "PYTHONSAFEPATH": "1",
        "VIDEOJOB_PROGRESS": "json",
        "VIDEOJOB_QUALITY": "low",
        "VIDEOJOB_CACHE": f"file://{cache}",
        "VIDEOJOB_OUTPUT": f"file://{out}",
    }
    env.pop("OPENAI_API_KEY", None)

    def run(name: str, kill_after_first_scene: bool = False):
        termination = base / f"{name}.termination"
        process = subprocess.Popen(
            [str(VIDEOJOB), "render", str(LECTURE)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=base,
            start_new_session=True,
            env={**env, "VIDEOJOB_TERMINATION_LOG": str(termination)},
        )
        lines = []
        for line in process.stdout:
            lines.append(line)
            event = parse_progress_line(line)
            if kill_after_first_scene and event and event.phase == "Rendering" and event.scene:
                os.killpg(process.pid, signal.SIGKILL)  # the whole render, workers included
                break
        process.wait(timeout=180)
        stderr = process.stderr.read()
        process.stdout.close()
        process.stderr.close()
        message = termination.read_text() if termination.exists() else None
        return process.returncode, message, "".join(lines), stderr

    crashed = run("crashed", kill_after_first_scene=True)
    resumed = run("resumed")
    repeated = run("repeated")
    return {"crashed": crashed, "resumed": resumed, "repeated": repeated, "out": out}


def _result(run) -> Result:
    returncode, message, _, stderr = run
    assert returncode == EXIT_SUCCESS, stderr
    return Result.model_validate_json(message)


def test_the_lecture_becomes_an_h264_aac_mp4_whose_audio_and_video_agree(lecture_runs):
    video = lecture_runs["out"] / "video.mp4"
    streams = _probe(video)
    assert (streams["video"]["codec_name"], streams["audio"]["codec_name"]) == ("h264", "aac")
    assert abs(float(streams["video"]["duration"]) - float(streams["audio"]["duration"])) < 0.050
    assert float(streams["video"]["duration"]) > 10
    atoms = _top_level_atoms(video)
    assert atoms.index("moov") < atoms.index("mdat")  # +faststart: the index comes first, web players start at once


def _top_level_atoms(path: Path) -> list[str]:
    data, offset, names = path.read_bytes(), 0, []
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        names.append(data[offset + 4 : offset + 8].decode("latin-1"))
        if size == 1:
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        if size < 8:
            break
        offset += size
    return names


def test_subtitles_cover_the_whole_narration_in_order_within_the_video(lecture_runs):
    storyboard = markdown_to_storyboard(LECTURE.read_text())
    narration = " ".join(scene.narration for scene in storyboard.scenes)
    duration = _result(lecture_runs["resumed"]).output.duration_seconds
    for name in ("video.vtt", "video.srt"):
        cues = _cue_times((lecture_runs["out"] / name).read_text())
        assert " ".join(text for _, _, text in cues).split() == narration.split()
        assert all(0 <= start < end <= duration for start, end, _ in cues)
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(cues))
    assert (lecture_runs["out"] / "video.vtt").read_text().startswith("WEBVTT\n")


def test_the_thumbnail_is_a_png_and_the_manifest_lists_every_file_with_its_sha256(lecture_runs):
    from videojob.renderer.storage import sha256_file

    out = lecture_runs["out"]
    assert (out / "thumbnail.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["files"]) == {"video.mp4", "video.vtt", "video.srt", "thumbnail.png", "contact-sheet.png"}
    for name, entry in manifest["files"].items():
        assert entry["sha256"] == sha256_file(out / name)
    assert _result(lecture_runs["resumed"]).output.sha256 == manifest["files"]["video.mp4"]["sha256"]


def test_a_render_killed_mid_way_resumes_with_the_scenes_it_finished(lecture_runs):
    returncode, _, _, _ = lecture_runs["crashed"]
    assert returncode == -signal.SIGKILL
    scenes = len(markdown_to_storyboard(LECTURE.read_text()).scenes)
    usage = _result(lecture_runs["resumed"]).usage
    assert usage.scenes_cached >= 1
    assert usage.scenes_rendered == scenes - usage.scenes_cached


def test_an_identical_rerun_renders_no_scene(lecture_runs):
    first, again = _result(lecture_runs["resumed"]), _result(lecture_runs["repeated"])
    assert again.usage.scenes_rendered == 0
    assert again.usage.scenes_cached == first.usage.scenes_cached + first.usage.scenes_rendered
    assert again.output.cached is True
    assert again.output.duration_seconds == first.output.duration_seconds


def test_progress_events_count_scenes_and_end_at_100(lecture_runs):
    _, _, stdout, _ = lecture_runs["resumed"]
    events = [e for e in map(parse_progress_line, stdout.splitlines()) if e]
    assert events[-1].progress == 100
    percents = [event.progress for event in events]
    assert percents == sorted(percents)
    assert {event.phase for event in events} == {"Scripting", "Rendering", "Assembling", "Uploading"}
    scenes = len(markdown_to_storyboard(LECTURE.read_text()).scenes)
    assert any(event.stage == f"Rendering scene {scenes}/{scenes}" for event in events)


def test_the_narration_track_is_one_sample_rate(lecture_runs, tmp_path):
    wav = tmp_path / "audio.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(lecture_runs["out"] / "video.mp4"), "-vn", str(wav)], check=True)
    with wave.open(str(wav)) as audio:
        assert (audio.getframerate(), audio.getnchannels()) == (48000, 1)
