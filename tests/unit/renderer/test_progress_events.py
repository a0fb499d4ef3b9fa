"""Progress goes out as contract JSON lines for the operator, or as a bar for a person."""

import io

from videojob.contract import ShareDone, Usage, parse_end_line, parse_progress_line
from videojob.renderer.progress import Progress, render_bar


def test_json_mode_writes_one_parseable_event_per_line_with_rising_percent():
    out = io.StringIO()
    progress = Progress("json", stdout=out)
    progress.report("Scripting", "Writing the storyboard")
    progress.report("Rendering", "Rendering scene 2/4", 0.5, scene=2, scenes=4)
    progress.report("Uploading", "Done", 1.0)
    events = [parse_progress_line(line) for line in out.getvalue().splitlines()]
    assert [event.phase for event in events] == ["Scripting", "Rendering", "Uploading"]
    assert [event.progress for event in events] == [0.0, 47.5, 100.0]
    assert (events[1].scene, events[1].scenes) == (2, 4)
    assert events[2].eta_seconds == 0


def test_the_bar_shows_stage_scene_and_eta():
    err = io.StringIO()
    event = Progress("bar", stderr=err).report("Rendering", "Rendering scene 3/7", 0.4, scene=3, scenes=7)
    line = render_bar(event.model_copy(update={"eta_seconds": 75.0}))
    assert line.startswith("[##########") and "40.0%" in line
    assert line.endswith("Rendering scene 3/7 ETA 1m15s")
    assert "Rendering scene 3/7" in err.getvalue()


def test_the_end_goes_out_on_the_progress_stream_as_the_termination_message_says_it():
    out, err = io.StringIO(), io.StringIO()
    done = ShareDone(index=0, shares=2, usage=Usage(cpuSeconds=11.5, scenesRendered=5))
    Progress("json", stdout=out).announce_end(done)
    assert [parse_end_line(line) for line in out.getvalue().splitlines()] == [done]
    Progress("bar", stderr=err).announce_end(done)  # a person at a terminal: the summary line says it
    assert err.getvalue() == ""
