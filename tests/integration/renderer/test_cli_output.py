"""What a person sees from `videojob render`: a progress bar on stderr, then one summary line."""

import json
import re


def test_the_bar_shows_stage_scene_and_eta_and_ends_in_one_summary_line(render_cli, tmp_path):
    source = tmp_path / "circle.json"
    source.write_text(
        json.dumps(
            {
                "title": "Circles",
                "theme": "math",
                "scenes": [
                    {"narration": "A circle.", "visual": {"kind": "title_card", "title": "Circles"}},
                    {"narration": "Its area.", "visual": {"kind": "equation", "latex": r"A = \pi r^2"}},
                ],
            }
        )
    )
    run = render_cli(str(source), "--quality", "low", "--progress", "bar", "-o", f"file://{tmp_path}/out")
    assert run.returncode == 0, run.stderr
    frames = run.stderr.split("\r")
    assert any(re.search(r"\[#*\.*\] +\d+\.\d% Rendering scene 1/2 ETA \d+s", frame) for frame in frames), frames
    assert any("100.0% Done" in frame for frame in frames)
    assert re.fullmatch(
        rf"file://{tmp_path}/out/video\.mp4  \ds of video, \d+\.\d MB, 2 scenes rendered, "
        r"0 cached, in \d+\.\ds\n",
        run.stdout,
    ), run.stdout


def test_a_lecture_longer_than_a_video_exits_65_saying_so_in_a_lecturers_words(render_cli, tmp_path):
    lecture = tmp_path / "course.md"
    lecture.write_text("# Course\n\n" + "".join(f"## Part {n}\n\nSome words about part {n}.\n\n" for n in range(60)))
    run = render_cli(str(lecture), "-o", f"file://{tmp_path}/out")
    assert run.returncode == 65
    assert run.stderr.strip().endswith(
        "InvalidStoryboard: the lecture cannot become a video: 61 sections; a video "
        "holds at most 40 scenes: split the lecture"
    )
    assert run.termination.reason == "InvalidStoryboard"
    assert not (tmp_path / "out").exists()
