"""A Markdown lecture the renderer would refuse fails the VideoJob before any Job, as the renderer would have.

Against the in-memory API of test_reconciler_reacts.py; the real API server and the real Job
controller are in tests/integration/operator/test_a_bad_lecture_is_refused_before_a_job.py.
"""

from __future__ import annotations

import asyncio

import pytest
from unit.operator.test_reconciler_reacts import _reconciler, _world

from videojob.markdown_lecture import markdown_to_storyboard
from videojob.operator.lecture_check import refusal_of
from videojob.operator.status import Observation, compute_status
from videojob.renderer.errors import failure_for
from videojob.spec import VideoJobSpec
from videojob.storyboard import InvalidStoryboardError

INPUT = "# Waves\n\nA wave carries energy.\n\n## Reading a file\n\nLook at this.\n\n$$\\input{/etc/hostname}$$\n"
TOO_MANY = "# Many\n" + "".join(f"\n## Part {n}\n\nPart {n} in words.\n" for n in range(60))
DIAGRAM = "# Shapes\n\n```diagram\ncircle sun: The Sun\nhexagon x: no such shape\n```\n"


def _renderers_failure(kube, markdown):
    """The status after the renderer refused ``markdown`` (exit 65 and its termination message), as today."""
    with pytest.raises(InvalidStoryboardError) as refused:
        markdown_to_storyboard(markdown)
    failure, exit_code = failure_for(refused.value)
    message = kube.failure_message(failure.reason, failure.message)
    pod = kube.pod(phase="Failed", state=kube.terminated(exit_code, "Error", message))
    job = kube.job(
        failed=1,
        conditions=[
            kube.job_condition("FailureTarget", "PodFailurePolicy"),
            kube.job_condition("Failed", "PodFailurePolicy"),
        ],
    )
    return compute_status(kube.videojob(source={"markdown": markdown}), Observation(now=kube.NOW, job=job, pods=[pod]))


@pytest.mark.parametrize("markdown", [INPUT, TOO_MANY, DIAGRAM], ids=["input", "too-many-scenes", "diagram-line"])
def test_the_operator_says_what_the_renderer_would_have_said(kube, markdown):
    videojob = kube.videojob(source={"markdown": markdown})
    refused = refusal_of(VideoJobSpec.model_validate(videojob["spec"]))
    assert refused is not None
    before = compute_status(
        videojob, Observation(now=kube.NOW, invalid_spec=refused.message, invalid_reason=refused.reason)
    )
    renderer = _renderers_failure(kube, markdown)["failure"]
    assert before["failure"] == {"reason": renderer["reason"], "message": renderer["message"]}  # no Pod: no exit code
    assert before["failure"]["reason"] == "InvalidStoryboard"
    assert before["phase"] == "Failed"


def test_a_bad_lecture_fails_at_once_naming_the_line_and_creates_nothing(kube, monkeypatch):
    reconciler, api, events = _reconciler(monkeypatch)
    reconciler.bind(_world(kube, videojobs=[kube.videojob(source={"markdown": INPUT})]))

    asyncio.run(reconciler.reconcile(kube.UID))
    assert api.created == []  # no ConfigMap, no Job: no Pod will ever start
    status = api.status_patches[-1][1]
    assert status["phase"] == "Failed"
    assert status["failure"]["reason"] == "InvalidStoryboard"
    assert status["failure"]["message"] == (
        "the lecture cannot become a video: line 9 (section 'Reading a file'): visual.equation.latex: "
        r"\input is not allowed in LaTeX (storyboard equations are math only). "
        "Bad input is never retried: fix spec.source and create the VideoJob again."
    )
    assert ("Warning", "InvalidStoryboard", status["failure"]["message"]) in events


def test_a_waiting_bad_lecture_never_takes_a_place_in_the_queue(kube, monkeypatch):
    reconciler, api, _ = _reconciler(monkeypatch, VIDEOJOB_MAX_CONCURRENT_RENDERS="1")
    running = kube.videojob(name="running")
    running["metadata"]["uid"] = "running-uid"
    bad = kube.videojob(name="bad", source={"markdown": TOO_MANY})
    reconciler.bind(_world(kube, videojobs=[running, bad], jobs=[("running-uid", kube.job(active=1))]))

    asyncio.run(reconciler.reconcile(kube.UID))
    assert api.created == []
    status = api.status_patches[-1][1]
    assert status["phase"] == "Failed" and "queuePosition" not in status
    assert "61 sections; a video holds at most 40 scenes: split the lecture" in status["failure"]["message"]


def test_a_good_lecture_still_gets_its_job(kube, monkeypatch):
    reconciler, api, _ = _reconciler(monkeypatch)
    reconciler.bind(_world(kube, videojobs=[kube.videojob(source={"markdown": "# Waves\n\n$$E = h f$$\n"})]))
    asyncio.run(reconciler.reconcile(kube.UID))
    assert [m["kind"] for m in api.created] == ["ConfigMap", "Job"]


def test_a_long_hostile_lecture_is_parsed_while_the_event_loop_goes_on(kube, monkeypatch):
    # 60,000 brackets take markdown-it about half a second: parsed on the loop, every watch and
    # reconcile of the operator would wait for it.
    reconciler, api, _ = _reconciler(monkeypatch)
    reconciler.bind(_world(kube, videojobs=[kube.videojob(source={"markdown": "# Brackets\n\n" + "[" * 60_000})]))

    async def main() -> int:
        ticks = 0
        reconcile = asyncio.ensure_future(reconciler.reconcile(kube.UID))
        while not reconcile.done():
            ticks += 1
            await asyncio.sleep(0.001)
        await reconcile
        return ticks

    assert asyncio.run(main()) > 20
    assert api.created == [] and api.status_patches[-1][1]["failure"]["reason"] == "InvalidStoryboard"


def test_a_fault_of_the_check_never_keeps_a_render_from_starting(kube, monkeypatch, caplog):
    def broken(spec, warn=True):
        raise RuntimeError("a bug in the parser")

    monkeypatch.setattr("videojob.operator.lecture_check.lecture_of_spec", broken)
    reconciler, api, _ = _reconciler(monkeypatch)
    reconciler.bind(_world(kube, videojobs=[kube.videojob()]))
    asyncio.run(reconciler.reconcile(kube.UID))
    assert [m["kind"] for m in api.created] == ["ConfigMap", "Job"]  # the renderer judges the lecture, as before
    assert "checking a Markdown lecture failed" in caplog.text
