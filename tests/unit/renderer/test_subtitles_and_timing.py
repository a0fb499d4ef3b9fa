"""Scene pacing and subtitles follow the narration's real timings."""

import pytest

from videojob.renderer.subtitles import Cue, SpokenScene, build_cues, to_srt, to_webvtt
from videojob.renderer.timing import LEAD_IN, TAIL, plan_scene, reveal_times, speech_chunks


def test_a_scene_lasts_its_speech_plus_lead_in_and_tail_in_whole_frames():
    timing = plan_scene(2.51, fps=15)
    assert timing.duration * 15 == pytest.approx(round(timing.duration * 15))
    assert LEAD_IN + 2.51 + TAIL <= timing.duration < LEAD_IN + 2.51 + TAIL + 1 / 15


def test_bullets_appear_when_the_narrator_reaches_them():
    narration = "First the intro. Alpha comes next. Then beta at the end."
    timing = plan_scene(10.0, fps=30)
    alpha, beta = reveal_times(narration, ["Alpha", "beta"], timing)
    assert alpha == pytest.approx(LEAD_IN + 10.0 * narration.index("Alpha") / len(narration))
    assert LEAD_IN < alpha < beta < LEAD_IN + 10.0


def test_unspoken_items_are_spread_evenly_over_the_speech():
    times = reveal_times("Nothing matches.", ["x1", "x2", "x3"], plan_scene(8.0, fps=30))
    assert times == pytest.approx([LEAD_IN, LEAD_IN + 2.0, LEAD_IN + 4.0])


def test_cues_cover_each_scene_speech_exactly_and_in_order():
    scenes = [
        SpokenScene("One sentence. And another one here.", 0.4, 3.0),
        SpokenScene("A second scene speaks.", 5.4, 2.0),
    ]
    cues = build_cues(scenes)
    assert [cue.text for cue in cues] == ["One sentence.", "And another one here.", "A second scene speaks."]
    assert cues[0].start == 0.4 and cues[1].end == pytest.approx(3.4)
    assert cues[0].end == cues[1].start
    assert (cues[2].start, cues[2].end) == (5.4, 7.4)


def test_long_sentences_are_cut_into_readable_cues():
    sentence = "word " * 60
    assert all(len(chunk) <= 84 for chunk in speech_chunks(sentence))
    assert " ".join(speech_chunks(sentence)).split() == sentence.split()


def test_webvtt_and_srt_formats():
    cues = [Cue(0.4, 61.25, "Hello."), Cue(61.25, 3725.5, "Bye.")]
    assert to_webvtt(cues) == (
        "WEBVTT\n\n00:00:00.400 --> 00:01:01.250\nHello.\n\n00:01:01.250 --> 01:02:05.500\nBye.\n"
    )
    assert to_srt(cues) == ("1\n00:00:00,400 --> 00:01:01,250\nHello.\n\n2\n00:01:01,250 --> 01:02:05,500\nBye.\n")
