"""Shares of a fanned-out render, joined, are the video one render makes (real Manim, espeak-ng, ffmpeg).

The CLI runs as the operator's Pods run it: two processes with VIDEOJOB_SHARDS=2 and the
Indexed Job's JOB_COMPLETION_INDEX share one scene cache (a folder here; S3 in a cluster),
then a plain render assembles from it. Each process draws one scene at a time, as a 1-CPU
Pod does: two scenes drawn at once in one pool are not bit-reproducible.
"""

from __future__ import annotations

import json
import subprocess

STORYBOARD = {
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
ONE_AT_A_TIME = {"VIDEOJOB_MAX_PARALLEL_SCENES": "1"}
VOICE = ("--voice", "espeak:en-us", "--quality", "low")


def _decoded(video) -> list[str]:
    run = subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-f", "framemd5", "-"],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return [line for line in run.stdout.splitlines() if not line.startswith("#")]


def test_two_shares_then_an_assembly_give_the_single_render_frame_for_frame(render_cli, tmp_path):
    source = tmp_path / "circles.json"
    source.write_text(json.dumps(STORYBOARD))
    cache = f"file://{tmp_path}/shared-cache"
    shares = [
        render_cli(str(source), *VOICE, "--cache", cache, "-o", f"file://{tmp_path}/share-{index}",
                   env=ONE_AT_A_TIME | {"VIDEOJOB_SHARDS": "2", "JOB_COMPLETION_INDEX": str(index)})
        for index in (0, 1)
    ]  # fmt: skip
    for index, share in enumerate(shares):
        assert share.returncode == 0, share.stderr
        assert f"share {index + 1}/2: " in share.stderr
        assert not (tmp_path / f"share-{index}").exists()  # a share uploads no video
        assert {event.storyboard_scenes for event in share.events[1:]} == {3}  # after "Writing the storyboard"
    sizes = sorted(share.events[-1].scenes for share in shares)
    assert sizes == [1, 2]  # the longest narration alone, the two shorter together

    joined = render_cli(str(source), *VOICE, "--cache", cache, "-o", f"file://{tmp_path}/joined", env=ONE_AT_A_TIME)
    assert joined.returncode == 0, joined.stderr
    assert joined.termination.usage.scenes_cached == 3 and joined.termination.usage.scenes_rendered == 0
    single = render_cli(str(source), *VOICE, "--cache", "off", "-o", f"file://{tmp_path}/single", env=ONE_AT_A_TIME)
    assert single.returncode == 0, single.stderr

    assert _decoded(tmp_path / "joined" / "video.mp4") == _decoded(tmp_path / "single" / "video.mp4")
    assert (tmp_path / "joined" / "video.vtt").read_text() == (tmp_path / "single" / "video.vtt").read_text()
    assert joined.termination.output.duration_seconds == single.termination.output.duration_seconds


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
    for index in (0, 1):
        share = render_cli(
            "--prompt",
            "Explain circles",
            *VOICE,
            *where,
            env=llm | {"VIDEOJOB_SHARDS": "2", "JOB_COMPLETION_INDEX": str(index)},
        )
        assert share.returncode == 0, share.stderr
    assembly = render_cli("--prompt", "Explain circles", *VOICE, *where, env=llm | {"VIDEOJOB_SHARDS": "2"})
    assert assembly.returncode == 0, assembly.stderr

    assert len([r for r in openai_stub.requests if r["path"].endswith("/chat/completions")]) == 1
    stored = json.loads((tmp_path / "out" / "storyboard.json").read_text())
    assert [scene["narration"] for scene in stored["scenes"]] == ["Circles 1.", "Circles 2."]
    assert (assembly.termination.usage.scenes_cached, assembly.termination.usage.scenes_rendered) == (2, 0)
