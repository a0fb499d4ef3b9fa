"""The narrator speaks the lecture's language with espeak-ng, and says so clearly when it cannot.

Real renders through the `videojob render` CLI (espeak-ng, Manim, ffmpeg): a Chinese
lecture is spoken by espeak-ng's Mandarin voice; a lecture in a language espeak-ng has no
voice for fails at once, before anything is drawn, as bad input the Job does not retry.
"""

import json
import subprocess

from videojob.contract import EXIT_BAD_INPUT, Failure, FailureReason, Result

from .test_cache_remembers_who_spoke import _voices_in_cache


def _lecture(language: str, title: str, narration: str) -> str:
    return json.dumps(
        {
            "title": title,
            "language": language,
            "scenes": [{"narration": narration, "visual": {"kind": "title_card", "title": title}}],
        }
    )


def test_a_chinese_lecture_is_spoken_by_espeaks_mandarin_voice(render_cli, tmp_path):
    source, cache = tmp_path / "zh.json", tmp_path / "cache"
    source.write_text(_lecture("zh", "勾股定理", "直角三角形两条直角边的平方和等于斜边的平方。"))
    run = render_cli(
        str(source), "--quality", "low", "-o", f"file://{tmp_path / 'out'}", env={"VIDEOJOB_CACHE": f"file://{cache}"}
    )
    assert run.returncode == 0, run.stderr
    assert isinstance(run.termination, Result) and run.termination.output.duration_seconds > 3
    assert _voices_in_cache(cache) == ["espeak:cmn-latn-pinyin"]


def test_the_mandarin_voice_says_the_characters_in_mandarin_not_their_tone_digits_in_english():
    # Why the plain cmn voice is not used: espeak-ng 1.51 switches to English "(en)" for the tone digits.
    def phonemes(voice: str) -> str:
        return subprocess.run(
            ["espeak-ng", "-q", "-x", "-v", voice], input="你好", capture_output=True, text=True, check=True
        ).stdout

    assert "(en)" not in phonemes("cmn-latn-pinyin")
    assert "(en)" in phonemes("cmn")  # if this fails, espeak-ng was fixed and plain cmn may serve again


def test_a_language_espeak_has_no_voice_for_fails_at_once_saying_so_and_is_not_retried(render_cli, tmp_path):
    source = tmp_path / "tlh.json"
    source.write_text(_lecture("tlh", "Qapla'", "nuqneH"))
    run = render_cli(str(source), "--quality", "low", "-o", f"file://{tmp_path / 'out'}")
    assert run.returncode == EXIT_BAD_INPUT, run.stderr
    assert isinstance(run.termination, Failure) and run.termination.reason == FailureReason.INVALID_SPEC
    assert "language 'tlh': espeak-ng, the offline narrator, has no voice for it" in run.termination.message
    assert not any(event.phase == "Rendering" for event in run.events)  # nothing was drawn
