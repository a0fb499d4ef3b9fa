"""Hostile inputs that pass validation (tests/data/hostile/) render like any other, or TeX refuses them
as bad input: never a traceback, a retryable failure, or a video missing its scenes."""

from __future__ import annotations

import pytest

from support import DATA_DIR
from videojob.contract import EXIT_BAD_INPUT

HOSTILE = DATA_DIR / "hostile"


@pytest.mark.parametrize(
    "name",
    [
        "storyboards/text-that-looks-like-latex.json",
        "storyboards/unicode-bidi-and-zero-width.json",
        "markdown/null-bytes.md",
    ],
)
def test_text_that_looks_dangerous_is_drawn_as_text(render_cli, tmp_path, name):
    run = render_cli(str(HOSTILE / name), "--quality", "low", "--cache", "off", "-o", f"file://{tmp_path}/out")
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert run.termination.output.size_bytes > 0 and (tmp_path / "out" / "video.mp4").exists()


def test_groups_nested_past_texs_limit_are_bad_input_with_texs_reason(render_cli, tmp_path):
    run = render_cli(
        str(HOSTILE / "storyboards" / "latex-nested-groups.json"),
        "--quality",
        "low",
        "--cache",
        "off",
        "-o",
        f"file://{tmp_path}/out",
    )
    assert run.returncode == EXIT_BAD_INPUT, run.stderr
    assert run.termination.reason == "InvalidStoryboard"
    assert run.termination.message.endswith("TeX capacity exceeded, sorry [grouping levels=255].")
    assert "Traceback" not in run.stderr and not (tmp_path / "out").exists()
