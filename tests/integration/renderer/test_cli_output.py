"""What a person sees from `videojob render`: a progress bar on stderr, then one summary line."""

import json
import re


def test_the_bar_shows_stage_scene_and_eta_and_ends_in_one_summary_line(render_cli, tmp_path):
    source = tmp_path / "circle.json"
    source.write_text(json.dumps({"title": "Circles", "theme": "math", "scenes": [
        {"narration": "A circle.", "visual": {"kind": "title_card", "title": "Circles"}},
        {"narration": "Its area.", "visual": {"kind": "equation", "latex": r"A = \pi r^2"}}]}))
    run = render_cli(str(source), "--quality", "low", "--progress", "bar", "-o", f"file://{tmp_path}/out")
    assert run.returncode == 0, run.stderr
    frames = run.stderr.split("\r")
    assert any(re.search(r"\[#*\.*\] +\d+\.\d% Rendering scene 1/2 ETA \d+s", frame) for frame in frames), frames
    assert any("100.0% Done" in frame for frame in frames)
    assert re.fullmatch(rf"file://{tmp_path}/out/video\.mp4  \ds of video, \d+\.\d MB, 2 scenes rendered, "
                        r"0 cached, in \d+\.\ds\n", run.stdout), run.stdout
