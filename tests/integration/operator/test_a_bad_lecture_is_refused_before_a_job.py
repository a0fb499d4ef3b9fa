"""A Markdown lecture the renderer would refuse, applied with kubectl (no gateway), fails before any Job.

Admission cannot parse Markdown (its CEL asks only for a heading), so such a VideoJob is admitted.
It used to fail only once a renderer Pod had been scheduled and started (exit 65, a minute later);
now the operator runs the renderer's own parser first and fails it at once, as the renderer would
have: reason InvalidStoryboard, the renderer's message naming the line, and no Job or Pod.
"""

from __future__ import annotations

import time

import pytest

from videojob.markdown_lecture import markdown_to_storyboard
from videojob.storyboard import InvalidStoryboardError

pytestmark = pytest.mark.cluster

INPUT = "# Waves\n\nA wave carries energy.\n\n## Files\n\n$$\\input{/etc/hostname}$$\n"
TOO_MANY = "# Many\n" + "".join(f"\n## Part {n}\n\nPart {n} in words.\n" for n in range(60))


def test_a_bad_lecture_fails_at_once_as_the_renderer_would_and_makes_no_job(cluster, start_operator, helpers):
    start_operator()
    cluster.videojob("escape", source={"markdown": INPUT})
    cluster.videojob("many", source={"markdown": TOO_MANY})
    cluster.videojob("fine")  # beside them, a lecture the renderer draws

    for name, lecture in (("escape", INPUT), ("many", TOO_MANY)):
        status = cluster.wait_status(name, lambda s: s.get("phase") == "Failed", "phase Failed")
        with pytest.raises(InvalidStoryboardError) as renderers:
            markdown_to_storyboard(lecture)
        assert status["failure"] == {
            "reason": "InvalidStoryboard",
            "message": f"{renderers.value}. Bad input is never retried: fix spec.source and create the VideoJob again.",
        }
        assert helpers.conditions(status)["Accepted"] == ("False", "InvalidStoryboard")
        assert helpers.conditions(status)["Failed"] == ("True", "InvalidStoryboard")
    assert (
        "line 7 (section 'Files'): visual.equation.latex: \\input is not allowed"
        in cluster.status("escape")["failure"]["message"]
    )
    waited = cluster.kubectl("wait", "--for=condition=Failed", "vj/escape", "--timeout=10s", check=False)
    assert waited.returncode == 0, waited.stderr
    warning = helpers.wait_for(
        lambda: [e for e in cluster.events("escape") if e["type"] == "Warning" and e["reason"] == "InvalidStoryboard"],
        10,
        "a Warning event",
    )
    assert "line 7" in warning[0]["message"]

    cluster.wait_job("fine")
    time.sleep(2)  # a Job would have been created by now (the operator creates it in the reconcile that fails it)
    assert cluster.jobs("escape") == [] and cluster.jobs("many") == []
    configmaps = [item["metadata"]["name"] for item in cluster.get("configmaps")["items"]]
    assert not [name for name in configmaps if name.startswith(("escape-", "many-"))], configmaps  # no spec either
