"""An unsafe equation in an inline storyboard is refused by the operator before any renderer Job.

Admission's CEL refuses the guard's commands in a flat scene's ``latex`` (tests/data/invalid_videojobs),
but it cannot run the whole guard: it cannot check environments or braces, and it cannot see
``visual.latex`` (a scene's other keys are unknown fields, which CEL cannot read). Those VideoJobs
are admitted; the operator's spec model runs the guard and fails them at once, with a message
naming the scene, the field and the problem.
"""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.cluster


@pytest.mark.parametrize(
    ("scene", "named"),
    [
        (
            {"template": "equation", "latex": r"\begin{document}x\end{document}", "narration": "Look."},
            "latex: environment {document} is not allowed",
        ),
        ({"narration": "Look.", "visual": {"kind": "equation", "latex": r"x \write18{id}"}}, r"visual.latex: \write"),
    ],
    ids=["flat", "visual"],
)
def test_an_unsafe_equation_fails_the_videojob_before_any_job(cluster, start_operator, scene, named):
    start_operator()
    safe = {"template": "title", "title": "Fine", "narration": "A safe scene first."}
    cluster.videojob("unsafe", source={"storyboard": {"title": "Bad", "scenes": [safe, scene]}})

    status = cluster.wait_status("unsafe", lambda s: s.get("phase") == "Failed", "phase Failed")
    assert status["failure"]["reason"] == "InvalidSpec"
    message = status["failure"]["message"]
    assert "spec.source.storyboard.scenes.1" in message and named in message
    time.sleep(2)  # a Job would have been created by now (the operator creates it in the same reconcile)
    assert cluster.jobs("unsafe") == []
