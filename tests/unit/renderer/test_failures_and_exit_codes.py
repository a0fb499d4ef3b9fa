"""Every failure maps, in one place, to a contract reason and an exit code the Job controller acts on."""

import json

import pytest

from videojob.contract import EXIT_BAD_INPUT, EXIT_TRANSIENT, FailureReason, Result, parse_termination_message
from videojob.renderer.errors import (
    InvalidSourceError,
    LatexRejectedError,
    LLMNotConfiguredError,
    LLMUnavailableError,
    NarrationError,
    RenderError,
    UploadError,
    failure_for,
)
from videojob.renderer.progress import write_termination_message
from videojob.storyboard import InvalidStoryboardError


@pytest.mark.parametrize(
    ("error", "reason", "exit_code"),
    [
        (InvalidStoryboardError(["scenes: too short"]), FailureReason.INVALID_STORYBOARD, EXIT_BAD_INPUT),
        (InvalidSourceError("no such file"), FailureReason.INVALID_SPEC, EXIT_BAD_INPUT),
        (LatexRejectedError("Undefined control sequence"), FailureReason.INVALID_STORYBOARD, EXIT_BAD_INPUT),
        (LLMNotConfiguredError("no key"), FailureReason.LLM_UNAVAILABLE, EXIT_BAD_INPUT),
        (LLMUnavailableError("timeout"), FailureReason.LLM_UNAVAILABLE, EXIT_TRANSIENT),
        (NarrationError("espeak died"), FailureReason.TTS_FAILED, EXIT_TRANSIENT),
        (RenderError("ffmpeg died"), FailureReason.RENDER_FAILED, EXIT_TRANSIENT),
        (UploadError("503"), FailureReason.UPLOAD_FAILED, EXIT_TRANSIENT),
        (MemoryError(), FailureReason.RENDER_FAILED, EXIT_TRANSIENT),
    ],
)
def test_errors_map_to_reason_and_exit_code(error, reason, exit_code):
    failure, code = failure_for(error)
    assert (failure.reason, code) == (reason, exit_code)


def test_the_termination_message_is_the_contract_failure_and_fits_4_kib(tmp_path):
    failure, _ = failure_for(InvalidStoryboardError([f"scenes.{n}.narration: too long" for n in range(500)]))
    path = tmp_path / "termination-log"
    write_termination_message(path, failure)
    assert len(path.read_bytes()) <= 4096
    parsed = parse_termination_message(path.read_text())
    assert parsed.reason == "InvalidStoryboard" and parsed.message.startswith("invalid storyboard: scenes.0")


def test_an_unwritable_termination_path_does_not_break_a_laptop_run(tmp_path):
    failure, _ = failure_for(RenderError("x"))
    write_termination_message(tmp_path / "missing-dir" / "log", failure)  # no exception
    assert not (tmp_path / "missing-dir").exists()
    assert json.loads(failure.model_dump_json())["reason"] == "RenderFailed"
    assert not isinstance(failure, Result)
