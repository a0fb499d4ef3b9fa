"""What the API server admits is what the renderer can draw: the CRD, the spec model and the
storyboard model read every shared limit from videojob.limits."""

import pytest
from pydantic import ValidationError

from videojob import limits as L
from videojob.crd import videojob_crd
from videojob.spec import VideoJobSpec
from videojob.storyboard import TEMPLATE_NAMES, THEME_NAMES, Scene, Storyboard
from videojob.structural import walk

NODES = dict(walk(videojob_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]))
STORYBOARD = Storyboard.model_json_schema()
SCENE = Scene.model_json_schema()


def test_the_scene_count_is_one_number():
    scenes = NODES[".spec.source.storyboard.scenes"]
    assert (scenes["minItems"], scenes["maxItems"]) == (L.SCENES_MIN, L.SCENES_MAX)
    assert (STORYBOARD["properties"]["scenes"]["minItems"], STORYBOARD["properties"]["scenes"]["maxItems"]) == (
        L.SCENES_MIN,
        L.SCENES_MAX,
    )
    assert f"{L.SCENES_MIN} to {L.SCENES_MAX}" in scenes["description"]


def test_the_storyboard_title_and_narration_have_the_renderers_bounds():
    assert (
        NODES[".spec.source.storyboard.title"]["maxLength"]
        == STORYBOARD["properties"]["title"]["maxLength"]
        == L.TITLE_MAX_CHARS
    )
    narration = NODES[".spec.source.storyboard.scenes[].narration"]
    assert (narration["minLength"], narration["maxLength"]) == (
        SCENE["properties"]["narration"]["minLength"],
        SCENE["properties"]["narration"]["maxLength"],
    )
    assert narration["maxLength"] == L.NARRATION_MAX_CHARS
    assert NODES[".spec.source.storyboard.scenes[]"]["required"] == ["narration"] and "narration" in SCENE["required"]


def test_a_language_the_crd_admits_is_one_the_storyboard_carries():
    # The renderer applies spec.language to every storyboard, whatever its source.
    language = NODES[".spec.language"]
    assert (language["pattern"], language["maxLength"]) == (L.LANGUAGE_TAG_PATTERN, L.LANGUAGE_MAX_CHARS)
    assert STORYBOARD["properties"]["language"]["pattern"] == L.LANGUAGE_TAG_PATTERN
    assert STORYBOARD["properties"]["language"]["maxLength"] == L.LANGUAGE_MAX_CHARS


def test_the_crd_names_exactly_the_templates_and_themes_the_renderer_draws():
    assert set(NODES[".spec.source.storyboard.scenes[].template"]["enum"]) == set(TEMPLATE_NAMES)
    assert NODES[".spec.theme"]["enum"] == list(THEME_NAMES) == STORYBOARD["properties"]["theme"]["enum"]


@pytest.mark.parametrize(
    ("path", "low", "high"),
    [
        (".spec.source.prompt", L.PROMPT_MIN_CHARS, L.PROMPT_MAX_CHARS),
        (".spec.source.markdown", 1, L.MARKDOWN_MAX_CHARS),
        (".spec.audience", None, L.AUDIENCE_MAX_CHARS),
        (".spec.language", None, L.LANGUAGE_MAX_CHARS),
    ],
)
def test_string_lengths_come_from_the_limits(path, low, high):
    assert (NODES[path].get("minLength"), NODES[path]["maxLength"]) == (low, high)


@pytest.mark.parametrize(
    ("path", "low", "high", "default"),
    [
        (".spec.durationSeconds", L.DURATION_SECONDS_MIN, L.DURATION_SECONDS_MAX, L.DURATION_SECONDS_DEFAULT),
        (".spec.parallelism", L.PARALLELISM_MIN, L.PARALLELISM_MAX, L.PARALLELISM_MIN),
        (".spec.retries", 0, L.RETRIES_MAX, L.RETRIES_DEFAULT),
        (
            ".spec.activeDeadlineSeconds",
            L.ACTIVE_DEADLINE_SECONDS_MIN,
            L.ACTIVE_DEADLINE_SECONDS_MAX,
            L.ACTIVE_DEADLINE_SECONDS_DEFAULT,
        ),
        (".spec.ttlSecondsAfterFinished", 0, L.TTL_SECONDS_MAX, None),
    ],
)
def test_numbers_come_from_the_limits(path, low, high, default):
    node = NODES[path]
    assert (node["minimum"], node["maximum"], node.get("default")) == (low, high, default)
    assert str(high) in node["description"] or path == ".spec.ttlSecondsAfterFinished"  # "one year" in words


def _storyboard_spec(scenes: int, title: str = "T") -> dict:
    return {
        "source": {
            "storyboard": {"title": title, "scenes": [{"template": "title", "title": "T", "narration": "Hi."}] * scenes}
        }
    }


def test_the_spec_model_refuses_what_the_renderer_cannot_draw():
    VideoJobSpec.model_validate(_storyboard_spec(L.SCENES_MAX))
    Storyboard.model_validate(_storyboard_spec(L.SCENES_MAX)["source"]["storyboard"])
    with pytest.raises(ValidationError, match=r"source\.storyboard\.scenes"):
        VideoJobSpec.model_validate(_storyboard_spec(45))
    with pytest.raises(ValidationError, match=r"source\.storyboard\.title"):
        VideoJobSpec.model_validate(_storyboard_spec(1, title="t" * (L.TITLE_MAX_CHARS + 1)))
