"""Shares of a fanned-out render, joined, are the video one render makes (real Manim, espeak-ng, ffmpeg).

The CLI runs as the operator's Pods run it: two processes with VIDEOJOB_SHARDS=2 and the
Indexed Job's JOB_COMPLETION_INDEX share one scene cache (a folder here; S3 in a cluster);
the last index, once its own share is drawn, waits for the other's scenes and joins them,
having encoded the narration meanwhile from the speech the other handed over early.
Each process draws one scene at a time, as a 1-CPU Pod does (the frames do not depend on it:
test_a_scene_is_the_same_picture_wherever_it_is_drawn.py).
"""

from __future__ import annotations

import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from videojob.contract import parse_share_message, parse_termination_message
from videojob.renderer.shards import JOIN_WEIGHT, share_of

STORYBOARD: dict[str, Any] = {
    "title": "Circles",
    "theme": "math",
    "scenes": [
        {"narration": "A circle is every point at one distance.", "visual": {"kind": "title_card", "title": "Circles"}},
        {"narration": "Its area grows with the square.", "visual": {"kind": "equation", "latex": r"A = \pi r^2"}},
        {
            "narration": "Two facts.",
            "visual": {"kind": "bullet_list", "heading": "Facts", "bullets": ["Round", "Flat"]},
        },
    ],
}
WEIGHTS = [len(scene["narration"]) for scene in STORYBOARD["scenes"]]  # what renderer/shards.my_share weighs
ONE_AT_A_TIME = {"VIDEOJOB_MAX_PARALLEL_SCENES": "1"}
VOICE = ("--voice", "espeak:en-us", "--quality", "low")


def _decoded(video) -> list[str]:
    run = subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-f", "framemd5", "-"],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return [line for line in run.stdout.splitlines() if not line.startswith("#")]


def _share_message(path):
    return parse_share_message(path.read_text()) if path.exists() else None


def test_the_last_share_waits_for_the_other_and_joins_the_single_render_frame_for_frame(render_cli, tmp_path):
    source = tmp_path / "circles.json"
    source.write_text(json.dumps(STORYBOARD))
    cache = tmp_path / "shared-cache"
    where = ("--cache", f"file://{cache}", "-o", f"file://{tmp_path}/joined")
    ends = {index: tmp_path / f"share-{index}.termination" for index in (0, 1)}

    def share(index: int):
        env = ONE_AT_A_TIME | {"VIDEOJOB_SHARDS": "2", "JOB_COMPLETION_INDEX": str(index)}
        return render_cli(str(source), *VOICE, *where, env=env | {"VIDEOJOB_TERMINATION_LOG": str(ends[index])})

    # The last index starts alone: it draws its one scene (it joins, so it draws less: shards.JOIN_WEIGHT),
    # then waits for the two index 0 has not drawn yet.
    assert [share_of(WEIGHTS, index, 2, round(sum(WEIGHTS) * JOIN_WEIGHT["low"])) for index in (0, 1)] == [[0, 2], [1]]
    with ThreadPoolExecutor(1) as pool:
        last = pool.submit(share, 1)
        deadline = time.monotonic() + 120
        while len(list(cache.glob("scenes/*/manifest.json"))) < 1:
            assert not last.done(), last.result().stderr
            assert time.monotonic() < deadline, "the last share drew nothing in 120 s"
            time.sleep(0.2)
        first = share(0)
        assembled = last.result()
    assert first.returncode == 0, first.stderr
    assert assembled.returncode == 0, assembled.stderr
    assert "share 1/2: " in first.stderr
    waited = [event.stage for event in assembled.events if "waiting" in event.stage]
    assert waited[0] == "Share 2/2: waiting for 2 scenes from the other Pods", waited
    assert [event.phase for event in assembled.events][-3:] == ["Assembling", "Uploading", "Uploading"]
    # Index 0 handed each speech over as soon as it was spoken, and the last index encoded the whole
    # narration from them (and its own) before it joined: none of it had to be encoded again.
    assert len(list(cache.glob("spoken/*/manifest.json"))) == 2
    assert "3 of 3 scenes were fed to the encoder while they were drawn" in assembled.stderr, assembled.stderr
    assert "encoded again" not in assembled.stderr

    # Each Pod counts what it drew itself, so that the operator can add them up.
    done = _share_message(ends[0])
    assert (done.index, done.shares, done.usage.scenes_rendered, done.usage.scenes_cached) == (0, 2, 2, 0)
    assert done.usage.cpu_seconds > 0 and done.usage.peak_memory_bytes > 0
    result = parse_termination_message(ends[1].read_text())
    assert (result.usage.scenes_rendered, result.usage.scenes_cached) == (1, 0)
    assert result.output.cached is False  # two Pods drew it just now

    single = render_cli(str(source), *VOICE, "--cache", "off", "-o", f"file://{tmp_path}/single", env=ONE_AT_A_TIME)
    assert single.returncode == 0, single.stderr
    assert _decoded(tmp_path / "joined" / "video.mp4") == _decoded(tmp_path / "single" / "video.mp4")
    assert (tmp_path / "joined" / "video.vtt").read_text() == (tmp_path / "single" / "video.vtt").read_text()
    assert result.output.duration_seconds == single.termination.output.duration_seconds


def test_a_share_with_the_cache_off_is_refused_saying_why(render_cli, tmp_path):
    source = tmp_path / "circles.json"
    source.write_text(json.dumps(STORYBOARD))
    run = render_cli(str(source), *VOICE, "--cache", "off", env={"VIDEOJOB_SHARDS": "2", "JOB_COMPLETION_INDEX": "0"})
    assert run.returncode == 65
    assert run.termination.reason == "InvalidSpec"
    assert "needs the scene cache" in run.termination.message


def test_a_prompt_is_sent_once_and_every_pod_draws_the_storyboard_it_got(render_cli, openai_stub, tmp_path):
    # Two different storyboards scripted: were a second Pod to ask, it would draw another video.
    for title in ("Circles", "Squares"):
        openai_stub.reply_storyboard(
            {
                "videojob": "storyboard/v1",
                "title": title,
                "theme": "math",
                "language": "en",
                "scenes": [
                    {
                        "narration": f"{title} {n}.",
                        "visual": {"kind": "title_card", "title": f"{title} {n}", "subtitle": None},
                    }
                    for n in (1, 2)
                ],
            }
        )
    llm = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": openai_stub.base_url} | ONE_AT_A_TIME
    where = ("--cache", f"file://{tmp_path}/shared-cache", "-o", f"file://{tmp_path}/out")
    shares = [
        render_cli("--prompt", "Explain circles", *VOICE, *where,
                   env=llm | {"VIDEOJOB_SHARDS": "2", "JOB_COMPLETION_INDEX": str(index)})
        for index in (0, 1)
    ]  # fmt: skip
    for share in shares:
        assert share.returncode == 0, share.stderr
    assembly = shares[1]  # the last index joins the video

    assert len([r for r in openai_stub.requests if r["path"].endswith("/chat/completions")]) == 1
    stored = json.loads((tmp_path / "out" / "storyboard.json").read_text())
    assert [scene["narration"] for scene in stored["scenes"]] == ["Circles 1.", "Circles 2."]
    assert (assembly.termination.usage.scenes_rendered, assembly.termination.usage.scenes_cached) == (1, 0)
    asked = _share_message(tmp_path / "termination-0.log")  # index 0's, which the operator adds to the Result's
    assert asked is not None and asked.usage.llm_prompt_tokens > 0 and assembly.termination.usage.llm_prompt_tokens == 0
    assert (tmp_path / "out" / "video.mp4").exists()
