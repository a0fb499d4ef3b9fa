"""A scene cached while OpenAI was down (spoken by espeak) is not reused once OpenAI answers.

The scene cache is keyed by the voice chain a render asks for; its manifest records
the voice that actually spoke. Four renders of one storyboard with
``openai:nova,espeak:en-us``, against the local OpenAI-compatible stand-in:
1. OpenAI down: espeak speaks, the scenes are cached as espeak's;
2. still down: the espeak scenes serve (nothing drawn again, OpenAI asked once);
3. OpenAI answers: every scene is spoken by OpenAI and drawn again;
4. OpenAI answers: nothing is drawn and nothing is asked, the whole video is cached.
"""

import json
import subprocess
from pathlib import Path

from .conftest import tone_wav

STORYBOARD = {
    "title": "Voices",
    "scenes": [
        {"narration": "Who is speaking?", "visual": {"kind": "title_card", "title": "Voices"}},
        {"narration": "The voice that was asked for.", "visual": {"kind": "bullet_list", "bullets": ["Asked for"]}},
    ],
}
TONE_SECONDS = 2.5  # the stand-in speaks a tone far longer than espeak says these words


def _voices_in_cache(cache: Path) -> list[str]:
    return sorted(json.loads(path.read_text())["voice"] for path in (cache / "scenes").glob("*/manifest.json"))


def _audio_seconds(video: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(video)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(out)


def test_espeak_audio_cached_during_an_outage_is_replaced_once_openai_answers(openai_stub, render_cli, tmp_path):
    source = tmp_path / "voices.json"
    source.write_text(json.dumps(STORYBOARD))
    cache = tmp_path / "cache"
    env = {
        "OPENAI_API_KEY": "sk-test",
        "VIDEOJOB_LLM_BASE_URL": openai_stub.base_url,
        "VIDEOJOB_CACHE": f"file://{cache}",
    }

    def render(name: str):
        asked = len(openai_stub.requests)
        run = render_cli(
            str(source),
            "--quality",
            "low",
            "--voice",
            "openai:nova,espeak:en-us",
            "-o",
            f"file://{tmp_path / name}",
            env=env,
        )
        assert run.returncode == 0, run.stderr
        speech_requests = [r for r in openai_stub.requests[asked:] if r["path"] == "/v1/audio/speech"]
        return run.termination.usage, len(speech_requests), _audio_seconds(tmp_path / name / "video.mp4")

    outage, asked, espeak_seconds = render("outage")  # no scripted replies: the stand-in answers 500
    assert (outage.scenes_rendered, outage.scenes_cached) == (2, 0)
    assert _voices_in_cache(cache) == ["espeak:en-us", "espeak:en-us"]
    assert asked == 3  # one request and the client's two retries; the down voice is not asked for scene 2

    still_down, asked, _ = render("still-down")
    assert (still_down.scenes_rendered, still_down.scenes_cached, asked) == (0, 2, 3)

    openai_stub.replies += [(200, tone_wav(TONE_SECONDS)), (200, tone_wav(TONE_SECONDS))]
    back, asked, openai_seconds = render("back")
    assert (back.scenes_rendered, back.scenes_cached, asked) == (2, 0, 2)
    assert _voices_in_cache(cache) == ["openai:nova", "openai:nova"]
    assert openai_seconds > espeak_seconds and openai_seconds >= 2 * TONE_SECONDS

    again, asked, again_seconds = render("again")
    assert (again.scenes_rendered, again.scenes_cached, asked) == (0, 2, 0)
    assert again_seconds == openai_seconds
