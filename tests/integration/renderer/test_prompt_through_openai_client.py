"""The prompt source, through the real openai client, against a local OpenAI-compatible server."""

import pytest

from videojob.renderer.config import llm_config
from videojob.renderer.errors import LLMNotConfiguredError, LLMUnavailableError
from videojob.renderer.llm_source import storyboard_from_prompt
from videojob.renderer.settings import RendererSettings
from videojob.storyboard import InvalidStoryboardError

GOOD = {
    "videojob": "storyboard/v1",
    "title": "Photosynthesis",
    "theme": "biology",
    "language": "en",
    "scenes": [
        {
            "narration": "Plants make sugar from light.",
            "visual": {"kind": "title_card", "title": "Photosynthesis", "subtitle": None},
        },
        {
            "narration": "Remember the inputs.",
            "visual": {"kind": "key_takeaways", "points": ["Light", "Water", "Carbon dioxide"]},
        },
    ],
}


def _settings(stub, **extra):
    return llm_config(
        RendererSettings(
            openai_api_key="sk-test",
            llm_base_url=stub.base_url,
            llm_model="test-model",
            llm_max_retries=2,
            llm_timeout_seconds=10,
            **extra,
        )
    )


def test_a_valid_reply_becomes_the_storyboard_with_usage_recorded(openai_stub):
    openai_stub.reply_storyboard(GOOD, prompt_tokens=321, completion_tokens=123)
    storyboard, usage = storyboard_from_prompt("Explain photosynthesis", _settings(openai_stub))
    assert storyboard.title == "Photosynthesis" and storyboard.theme == "biology"
    assert storyboard.scenes[1].visual.points == ["Light", "Water", "Carbon dioxide"]
    assert (usage.llm_prompt_tokens, usage.llm_completion_tokens) == (321, 123)
    request = openai_stub.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["authorization"] == "Bearer sk-test"
    assert request["json"]["model"] == "test-model"
    response_format = request["json"]["response_format"]
    assert response_format["type"] == "json_schema" and response_format["json_schema"]["strict"] is True
    assert "Explain photosynthesis" in request["json"]["messages"][-1]["content"]


def test_429_is_retried_with_backoff_then_succeeds(openai_stub):
    openai_stub.reply_error(429)
    openai_stub.reply_storyboard(GOOD)
    storyboard, _ = storyboard_from_prompt("Explain photosynthesis", _settings(openai_stub))
    assert storyboard.title == "Photosynthesis"
    assert len(openai_stub.requests) == 2


def test_persistent_5xx_fails_as_llm_unavailable_which_is_retryable(openai_stub):
    for _ in range(3):
        openai_stub.reply_error(503, "overloaded")
    with pytest.raises(LLMUnavailableError) as caught:
        storyboard_from_prompt("x", _settings(openai_stub))
    assert caught.value.retryable and len(openai_stub.requests) == 3


def test_a_malformed_reply_gets_one_repair_request_quoting_the_errors(openai_stub):
    broken = {**GOOD, "scenes": [{"narration": "x", "visual": {"kind": "equation", "latex": r"\input{/etc/hostname}"}}]}
    openai_stub.reply_storyboard(broken, prompt_tokens=100, completion_tokens=50)
    openai_stub.reply_storyboard(GOOD, prompt_tokens=200, completion_tokens=60)
    storyboard, usage = storyboard_from_prompt("Explain photosynthesis", _settings(openai_stub))
    assert storyboard.title == "Photosynthesis"
    repair = openai_stub.requests[1]["json"]["messages"]
    assert repair[-2]["role"] == "assistant" and r"\input" in repair[-2]["content"]
    assert r"scenes.0.visual.equation.latex: \input is not allowed" in repair[-1]["content"]
    assert (usage.llm_prompt_tokens, usage.llm_completion_tokens) == (300, 110)


def test_a_reply_that_never_validates_is_an_invalid_storyboard(openai_stub):
    openai_stub.reply_storyboard("this is not json")
    openai_stub.reply_storyboard({"title": "no scenes", "scenes": []})
    with pytest.raises(InvalidStoryboardError) as caught:
        storyboard_from_prompt("x", _settings(openai_stub))
    assert len(openai_stub.requests) == 2
    assert "scenes: a video needs at least 1 scene, this one has 0" in caught.value.errors


def test_no_api_key_is_a_clear_error_and_nothing_is_sent(openai_stub):
    settings = RendererSettings(openai_api_key=None, llm_base_url=openai_stub.base_url)
    with pytest.raises(LLMNotConfiguredError, match="no API key is configured: set OPENAI_API_KEY"):
        storyboard_from_prompt("x", llm_config(settings))
    assert openai_stub.requests == []


def test_the_cli_renders_a_prompt_and_reports_tokens(openai_stub, render_cli, tmp_path):
    openai_stub.reply_storyboard(
        {"title": "Tiny", "scenes": [{"narration": "Hi.", "visual": {"kind": "title_card", "title": "Tiny"}}]},
        prompt_tokens=11,
        completion_tokens=7,
    )
    run = render_cli(
        "--prompt",
        "a tiny video",
        "--quality",
        "low",
        "-o",
        f"file://{tmp_path}/out",
        env={"OPENAI_API_KEY": "sk-test", "VIDEOJOB_LLM_BASE_URL": openai_stub.base_url},
    )
    assert run.returncode == 0, run.stderr
    assert (run.termination.usage.llm_prompt_tokens, run.termination.usage.llm_completion_tokens) == (11, 7)
    assert (tmp_path / "out" / "video.mp4").stat().st_size > 1000


def test_the_cli_without_a_key_exits_as_bad_input_with_one_line(render_cli):
    run = render_cli("--prompt", "anything")
    assert run.returncode == 65
    assert run.stderr.strip().count("\n") == 0
    assert run.stderr.startswith("videojob: error: LLMUnavailable: a prompt needs an LLM, but no API key")
    assert run.termination.reason == "LLMUnavailable"


def test_a_reply_fenced_as_markdown_is_accepted_without_a_repair(openai_stub):
    import json

    openai_stub.reply_storyboard("```json\n" + json.dumps(GOOD) + "\n```")
    storyboard, _ = storyboard_from_prompt("Explain photosynthesis", _settings(openai_stub))
    assert storyboard.title == "Photosynthesis" and len(openai_stub.requests) == 1
