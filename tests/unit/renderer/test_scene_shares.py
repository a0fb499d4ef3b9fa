"""How a fanned-out render splits the scenes over its Pods (renderer/shards.py: share_of)."""

from __future__ import annotations

import pytest

from videojob.renderer.shards import share_of


def _split(weights, shares):
    return [share_of(weights, index, shares) for index in range(shares)]


def test_every_scene_is_drawn_by_exactly_one_pod():
    weights = [120, 300, 80, 80, 500, 40, 260, 90, 90, 150, 30]
    for shares in (1, 2, 3, 4, 11, 16):
        split = _split(weights, shares)
        drawn = sorted(scene for share in split for scene in share)
        assert drawn == list(range(len(weights))), shares
        assert all(share == sorted(share) for share in split)


def test_long_scenes_are_spread_so_the_pods_finish_close_together():
    # One long scene and six short ones: the long one alone on a Pod, the short ones on the other.
    weights = [600, 100, 100, 100, 100, 100, 100]
    assert _split(weights, 2) == [[0], [1, 2, 3, 4, 5, 6]]
    mixed = [120, 300, 80, 80, 500, 40, 260]
    loads = [sum(mixed[scene] for scene in share) for share in _split(mixed, 3)]
    assert max(loads) - min(loads) <= 80  # no Pod waits on another for more than one short scene


def test_the_split_is_the_same_in_every_pod_and_every_run():
    weights = [50] * 9  # equal scenes: round the Pods in order, lower index first on ties
    assert _split(weights, 3) == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]
    assert _split(weights, 3) == _split(list(weights), 3)


def test_more_pods_than_scenes_leaves_the_extra_pods_nothing():
    assert _split([10, 20], 4) == [[1], [0], [], []]


@pytest.mark.parametrize(("index", "shares"), [(2, 2), (-1, 2)])
def test_an_index_outside_the_job_is_refused(index, shares):
    with pytest.raises(ValueError, match="share index"):
        share_of([1, 2, 3], index, shares)
