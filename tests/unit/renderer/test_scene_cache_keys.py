"""Scene cache keys change exactly when the scene would look or sound different."""

from typing import Any

from videojob.renderer.cache import CACHE_VERSION, scene_key

VISUAL: dict[str, Any] = {"kind": "bullet_list", "heading": None, "bullets": ["a", "b"]}
BASE: dict[str, Any] = dict(visual=VISUAL, narration="Say a and b.", theme="math", quality="low", voices="espeak:en-us")


def test_identical_scenes_share_a_key_whatever_the_dict_order():
    reordered = {"bullets": ["a", "b"], "heading": None, "kind": "bullet_list"}
    assert scene_key(**BASE) == scene_key(**{**BASE, "visual": reordered})


def test_each_input_changes_the_key():
    changes: list[dict[str, Any]] = [
        {"visual": {**VISUAL, "bullets": ["a", "c"]}},
        {"narration": "Say a, then b."},
        {"theme": "physics"},
        {"quality": "medium"},
        {"voices": "openai:alloy,espeak:en-us"},
    ]
    keys = {scene_key(**{**BASE, **change}) for change in changes} | {scene_key(**BASE)}
    assert len(keys) == len(changes) + 1


def test_the_renderer_version_is_part_of_the_key(monkeypatch):
    before = scene_key(**BASE)
    monkeypatch.setattr("videojob.renderer.cache.CACHE_VERSION", CACHE_VERSION + 1)
    assert scene_key(**BASE) != before
