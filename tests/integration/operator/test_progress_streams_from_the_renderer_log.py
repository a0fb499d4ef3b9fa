"""The renderer's progress lines reach the VideoJob's status within 2 seconds, through the real API server's log stream.

The renderer Pod has no API credentials: it only prints contract-v1 progress lines. The
operator follows the Pod's log (GET .../pods/NAME/log?follow=true), which the API server
proxies from the node; a stand-in kubelet serves the renderer's lines.
"""

from __future__ import annotations

import time

import pytest

from videojob.contract import ProgressEvent, encode_progress

pytestmark = pytest.mark.cluster


def _line(phase, percent, stage, eta=None):
    return encode_progress(ProgressEvent(phase=phase, progress=percent, stage=stage, etaSeconds=eta))


def test_each_stage_change_shows_in_status_within_two_seconds(cluster, start_operator, fake_kubelet, helpers):
    start_operator()
    cluster.videojob("narrated")
    pod = cluster.wait_new_pod(cluster.wait_job("narrated"))
    cluster.run_pod(pod)
    say = lambda line: fake_kubelet.say(cluster.namespace, pod["metadata"]["name"], line)  # noqa: E731

    say("renderer 0.1.0 starting (ordinary log lines are ignored)")
    say(_line("Scripting", 5, "Writing the storyboard"))
    cluster.wait_status("narrated", lambda s: s.get("phase") == "Scripting", "phase Scripting", 30)
    assert helpers.conditions(cluster.status("narrated"))["Progressing"] == ("True", "RendererRunning")

    delays = []
    for phase, percent, stage in (
        ("Rendering", 30, "Rendering scene 1/3"),
        ("Rendering", 55, "Rendering scene 2/3"),
        ("Assembling", 90, "Assembling the video"),
        ("Uploading", 97, "Uploading video.mp4"),
    ):
        said = time.monotonic()
        say(_line(phase, percent, stage, eta=20))
        status = cluster.wait_status("narrated", lambda s, stage=stage: s.get("stage") == stage, stage, 10)
        delays.append(time.monotonic() - said)
        assert status["phase"] == phase and status["progress"] == percent
        assert status["estimatedCompletionTime"]
    assert max(delays) < 2, delays
    assert any(request.query.get("follow") == "true" for request in fake_kubelet.requests)

    cluster.succeed(pod, "narrated")
    cluster.wait_status("narrated", lambda s: s.get("phase") == "Succeeded", "phase Succeeded")
    reasons = {e["reason"] for e in cluster.events("narrated")}
    assert {"Scripting", "Rendering", "Assembling", "Uploading", "Succeeded"} <= reasons
