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


def test_the_assembling_pod_draws_less_by_what_its_join_costs():
    weights = [100] * 10
    plain, weighed = _split(weights, 2), [share_of(weights, index, 2, 200) for index in range(2)]
    assert [len(share) for share in plain] == [5, 5]
    assert [len(share) for share in weighed] == [6, 4]  # 600 drawn against 400 drawn + 200 joined
    assert sorted(scene for share in weighed for scene in share) == list(range(10))


def test_the_join_weighs_more_where_drawing_is_cheaper():
    from videojob.renderer.shards import JOIN_WEIGHT, my_share
    from videojob.storyboard import parse_storyboard

    scenes = [{"narration": "x" * 100, "visual": {"kind": "title_card", "title": f"S{n}"}} for n in range(12)]
    storyboard = parse_storyboard({"title": "T", "scenes": scenes})
    assert JOIN_WEIGHT["low"] > JOIN_WEIGHT["medium"] > JOIN_WEIGHT["high"]
    drawn_last = {quality: len(my_share(storyboard, quality, 1, 2)) for quality in ("low", "medium", "high")}
    assert drawn_last == {"low": 4, "medium": 5, "high": 6}  # of 12: the other Pod draws the rest
    assert len(my_share(storyboard, "low", 0, 2)) == 8


def test_more_pods_than_scenes_leaves_the_extra_pods_nothing():
    assert _split([10, 20], 4) == [[1], [0], [], []]


@pytest.mark.parametrize(("index", "shares"), [(2, 2), (-1, 2)])
def test_an_index_outside_the_job_is_refused(index, shares):
    with pytest.raises(ValueError, match="share index"):
        share_of([1, 2, 3], index, shares)


def test_a_pod_started_before_index_0_stored_the_storyboard_waits_for_it(tmp_path, monkeypatch):
    import json
    import threading
    import time

    from videojob.renderer import shards
    from videojob.renderer.settings import RendererSettings

    monkeypatch.setattr(shards, "POLL_SECONDS", 0.05)
    settings = RendererSettings(output=f"file://{tmp_path}/out", shards=2, shard_index=1, voice="espeak:en-us")
    storyboard = {"title": "Tides", "scenes": [{"narration": "Water.", "visual": {"kind": "title_card", "title": "T"}}]}

    def index_0_stores_it_late() -> None:
        time.sleep(0.3)
        (tmp_path / "out").mkdir()
        (tmp_path / "out" / "storyboard.json").write_text(json.dumps(storyboard))

    writer = threading.Thread(target=index_0_stores_it_late)
    writer.start()
    job = shards.resolve_shared_job(None, "Explain tides", settings)  # no LLM is asked: none is configured
    writer.join()
    assert [scene.narration for scene in job.storyboard.scenes] == ["Water."]
    assert job.usage.llm_prompt_tokens == 0  # index 0 counts the model's tokens


def test_a_pod_gives_up_waiting_for_the_storyboard_saying_where_it_looked(tmp_path, monkeypatch):
    from videojob.renderer import shards
    from videojob.renderer.errors import LLMUnavailableError
    from videojob.renderer.settings import RendererSettings

    monkeypatch.setattr(shards, "POLL_SECONDS", 0.01)
    settings = RendererSettings(
        output=f"file://{tmp_path}/out", shards=2, shard_index=1, llm_timeout_seconds=0.01, llm_max_retries=0
    )
    monkeypatch.setattr(shards, "WAIT_MARGIN_SECONDS", 0.1)
    with pytest.raises(LLMUnavailableError, match=r"never stored the storyboard at storyboard\.json"):
        shards.resolve_shared_job(None, "Explain tides", settings)


def test_the_last_index_joins_and_every_other_index_only_draws():
    from videojob.renderer.shards import assembles

    assert [assembles(index, 3) for index in range(3)] == [False, False, True]
    assert assembles(0, 1)


def test_the_assembling_index_gives_up_on_a_scene_that_never_comes_naming_the_deadline(tmp_path, monkeypatch):
    import json

    from videojob.renderer import shards
    from videojob.renderer.errors import RenderError
    from videojob.renderer.progress import Progress
    from videojob.renderer.settings import RendererSettings
    from videojob.renderer.sources import resolve_job

    # One scene and two shares: index 0 draws it, so the last index has nothing to draw and only waits.
    storyboard = tmp_path / "one.json"
    storyboard.write_text(json.dumps({"title": "T", "scenes": [{"narration": "Water.",
                                      "visual": {"kind": "title_card", "title": "T"}}]}))  # fmt: skip
    settings = RendererSettings(output=f"file://{tmp_path}/out", cache=f"file://{tmp_path}/cache",
                                voice="espeak:en-us", shards=2, shard_index=1)  # fmt: skip
    job = resolve_job(storyboard, None, settings)
    monkeypatch.setattr(shards, "FIRST_LOOK_SECONDS", 0.01)
    progress = Progress("none")
    with pytest.raises(RenderError, match=r"waited 0.1s \(spec.activeDeadlineSeconds\) .* scene\(s\) 1 never"):
        shards.render_last_share(job.storyboard, job.config, progress, 2, wait_seconds=0.1)
    assert [event.stage for event in progress.events] == ["Share 2/2: waiting for 1 scenes from the other Pods"]
    assert not (tmp_path / "out").exists()  # nothing uploaded


def test_a_spec_deadline_bounds_the_wait(tmp_path):
    from videojob.renderer.settings import RendererSettings
    from videojob.renderer.shards import wait_bound_seconds
    from videojob.spec import VideoJobSpec, renderer_spec_json

    spec = tmp_path / "spec.json"
    spec.write_text(renderer_spec_json(VideoJobSpec.model_validate({"source": {"markdown": "# T\n\nHi."},
                                                                    "activeDeadlineSeconds": 900})))  # fmt: skip
    assert wait_bound_seconds(RendererSettings(spec_file=spec)) == 900
    assert wait_bound_seconds(RendererSettings()) == 3600  # limits.ACTIVE_DEADLINE_SECONDS_DEFAULT
