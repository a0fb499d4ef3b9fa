"""The order scenes are narrated in (renderer/stages.py): one short scene per worker first when
workers draw in parallel, so each starts drawing soon after Manim is imported, then the longest first."""

from pathlib import Path

from videojob.renderer.stages import _Pending, narration_order
from videojob.storyboard import parse_storyboard

WORDS = {0: "A medium length narration here.", 1: "Short.", 2: "The longest narration of them all, by far.", 3: "Mid."}
STORYBOARD = parse_storyboard(
    {
        "title": "Order",
        "scenes": [
            {"narration": WORDS[index], "visual": {"kind": "title_card", "title": f"Scene {index}"}}
            for index in range(4)
        ],
    }
)


def _pending(*indexes: int) -> list[_Pending]:
    return [_Pending(index, f"key-{index}", Path(f"scene-{index}"), None) for index in indexes]


def _order(pending: list[_Pending], workers: int) -> list[int]:
    return [scene.index for scene in narration_order(pending, STORYBOARD, workers)]


def test_with_workers_one_short_scene_each_is_spoken_first_then_the_longest_first():
    assert _order(_pending(0, 1, 2, 3), workers=2) == [3, 1, 2, 0]
    assert _order(_pending(0, 1, 2, 3), workers=3) == [3, 1, 0, 2]


def test_with_one_worker_or_no_more_scenes_than_workers_it_is_longest_first():
    assert _order(_pending(0, 1, 2, 3), workers=1) == [2, 0, 1, 3]
    assert _order(_pending(0, 2), workers=2) == [2, 0]
