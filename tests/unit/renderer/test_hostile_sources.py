"""Hostile storyboard files and lectures (tests/data/hostile/): each is refused with a message that
names the field or the line, or parses; never a traceback or an unbounded parse.

Each folder's expected.yaml gives the answer per file: ``refused`` (a piece of the message, FILE for
its path) or ``parses`` (the number of scenes). The biggest valid inputs are made here, at the limits.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml

from support import DATA_DIR
from videojob import limits as L
from videojob.renderer.config import LlmConfig
from videojob.renderer.errors import RendererError
from videojob.renderer.sources import load_storyboard
from videojob.storyboard import InvalidStoryboardError

HOSTILE = DATA_DIR / "hostile"
FOLDERS = ("storyboards", "markdown")
CASES = [
    (path, yaml.safe_load((HOSTILE / folder / "expected.yaml").read_text())[path.name])
    for folder in FOLDERS
    for path in sorted((HOSTILE / folder).iterdir())
    if path.name != "expected.yaml"
]
PARSE_SECONDS = 5.0  # generous on a busy 2-core machine; the slowest file here takes about 3 s


def _load(path: Path) -> int:
    storyboard, _ = load_storyboard(path, None, LlmConfig())
    return len(storyboard.scenes)


def test_every_file_has_an_expected_answer():
    for folder in FOLDERS:
        names = {path.name for path in (HOSTILE / folder).iterdir()} - {"expected.yaml"}
        assert names == set(yaml.safe_load((HOSTILE / folder / "expected.yaml").read_text())), folder


@pytest.mark.parametrize(("path", "expected"), CASES, ids=lambda case: getattr(case, "name", ""))
def test_a_hostile_source_is_refused_clearly_or_parses(path, expected):
    started = time.monotonic()
    if "parses" in expected:
        assert _load(path) == expected["parses"]
    else:
        with pytest.raises((InvalidStoryboardError, RendererError)) as refused:
            _load(path)
        assert expected["refused"].replace("FILE", str(path)) in str(refused.value)
    assert time.monotonic() - started < PARSE_SECONDS


def test_the_longest_allowed_lecture_parses_in_bounded_time(tmp_path):
    section = "## Section {n}\n\nLight bends when it enters glass. The angle depends on the speed.\n\n"
    body = "# The longest lecture\n\n" + "".join(section.format(n=n) for n in range(L.SCENES_MAX - 1))
    padding = "More words about refraction and the speed of light in glass. "
    while len(body) + len(padding) <= L.MARKDOWN_MAX_CHARS:
        body = body.replace("\n\n## Section 1\n", f" {padding}\n\n## Section 1\n", 1)
    lecture = tmp_path / "longest.md"
    lecture.write_text(body)
    started = time.monotonic()
    try:
        scenes = _load(lecture)
    except InvalidStoryboardError as refused:  # over the scene limit once split: a clear refusal is fine too
        assert "at most" in str(refused) and "scenes" in str(refused)
    else:
        assert L.SCENES_MIN <= scenes <= L.SCENES_MAX
    assert time.monotonic() - started < PARSE_SECONDS


def test_the_biggest_storyboard_parses_in_bounded_time(tmp_path):
    narration = ("Every scene says as much as a scene may say. " * 40)[: L.NARRATION_MAX_CHARS]
    bullets = ["x" * L.ITEM_MAX_CHARS] * L.BULLETS_MAX
    scene = {"narration": narration, "visual": {"kind": "bullet_list", "bullets": bullets}}
    storyboard = tmp_path / "biggest.json"
    storyboard.write_text(json.dumps({"title": "T" * L.TITLE_MAX_CHARS, "scenes": [scene] * L.SCENES_MAX}))
    started = time.monotonic()
    assert _load(storyboard) == L.SCENES_MAX
    assert time.monotonic() - started < PARSE_SECONDS
