"""The storyboard model: what validates, what does not, and the schema that is published."""

import json

import pytest

from support import REPO_ROOT
from videojob.storyboard import (
    SCHEMA_PATH,
    THEMES,
    VISUAL_KINDS,
    InvalidStoryboardError,
    parse_storyboard,
    storyboard_json_schema,
)

ONE_OF_EACH = [
    {"kind": "title_card", "title": "Waves"},
    {"kind": "bullet_list", "bullets": ["one", "two"]},
    {"kind": "equation", "latex": r"E = h \nu"},
    {"kind": "comparison", "left_title": "A", "left_items": ["a"], "right_title": "B", "right_items": ["b"]},
    {"kind": "function_plot", "expression": "sin(x)", "x_min": -3, "x_max": 3},
    {"kind": "diagram", "shapes": [{"id": "a"}, {"id": "b", "x": 2}], "arrows": [{"source": "a", "target": "b"}]},
    {"kind": "timeline", "events": [{"when": "1900", "label": "x"}, {"when": "2000", "label": "y"}]},
    {"kind": "code", "code": "print(1)"},
    {"kind": "key_takeaways", "points": ["remember"]},
]


def _board(*visuals, **extra):
    return {"title": "Test", "scenes": [{"narration": "Words.", "visual": v} for v in visuals], **extra}


def test_every_catalogue_visual_validates():
    board = parse_storyboard(_board(*ONE_OF_EACH, theme="physics"))
    assert [scene.visual.kind for scene in board.scenes] == list(VISUAL_KINDS)
    assert board.palette == THEMES["physics"]


@pytest.mark.parametrize(
    ("visual", "problem"),
    [
        ({"kind": "video_embed", "url": "x"}, "unknown kind 'video_embed'; use one of 'title_card'"),
        ({"kind": "bullet_list", "bullets": []}, "a bullet list needs at least 1 bullet, this one has 0"),
        ({"kind": "function_plot", "expression": "import os"}, "unknown name 'import'"),
        ({"kind": "function_plot", "expression": "x", "x_min": 3, "x_max": 1}, "x_min must be less than x_max"),
        ({"kind": "diagram", "shapes": [{"id": "a"}], "arrows": [{"source": "a", "target": "z"}]}, "unknown shape"),
        ({"kind": "code", "code": "\n".join(["x"] * 25)}, "at most 20 lines"),
        ({"kind": "title_card", "title": "t", "script": "alert(1)"}, "'script' is not a field here; remove it"),
    ],
)
def test_bad_visuals_are_rejected_with_where_and_what(visual, problem):
    with pytest.raises(InvalidStoryboardError) as caught:
        parse_storyboard(_board(visual))
    assert any(error.startswith("scenes.0.visual") and problem in error for error in caught.value.errors), (
        caught.value.errors
    )


def test_unknown_theme_and_empty_scenes_are_rejected():
    with pytest.raises(InvalidStoryboardError) as caught:
        parse_storyboard({"title": "t", "theme": "astrology", "scenes": []})
    assert [error.split(":")[0] for error in caught.value.errors] == ["theme", "scenes"]


def test_limits_are_told_in_words_with_the_number_allowed_and_the_number_given():
    too_many = {"title": "t", "scenes": [{"narration": "Hi.", "visual": {"kind": "title_card", "title": "t"}}] * 45}
    with pytest.raises(InvalidStoryboardError) as caught:
        parse_storyboard(too_many)
    assert caught.value.errors == [
        "scenes: a video holds at most 40 scenes, this one has 45: split it into shorter videos"
    ]
    crowded = {"kind": "bullet_list", "bullets": [f"point {n}" for n in range(9)]}
    with pytest.raises(InvalidStoryboardError) as caught:
        parse_storyboard({"title": "t", "scenes": [{"narration": "x" * 1501, "visual": crowded}]})
    assert caught.value.errors == [
        "scenes.0.narration: at most 1500 characters (this one has 1501): split it across scenes",
        "scenes.0.visual.bullet_list.bullets: a bullet list holds at most 7 bullets, this one has 9",
    ]


def test_json_text_is_accepted_too():
    assert parse_storyboard(json.dumps(_board(ONE_OF_EACH[0]))).title == "Test"


def test_the_published_schema_file_is_current():
    assert json.loads(SCHEMA_PATH.read_text()) == storyboard_json_schema()


def test_the_schema_lists_the_whole_catalogue_and_the_themes():
    schema = storyboard_json_schema()
    kinds = {
        definition["properties"]["kind"]["const"]
        for definition in schema["$defs"].values()
        if "kind" in definition.get("properties", {})
    }
    assert kinds == set(VISUAL_KINDS)
    assert set(schema["properties"]["theme"]["enum"]) == set(THEMES)


def test_the_example_storyboard_uses_every_template_and_validates():
    import yaml

    example = REPO_ROOT / "examples" / "storyboard.yaml"
    board = parse_storyboard(yaml.safe_load(example.read_text()))
    assert sorted(scene.visual.kind for scene in board.scenes) == sorted(VISUAL_KINDS)
