"""The real operator, told VIDEOJOB_LOG_FORMAT=json: every line it writes is JSON, and a line about a
VideoJob names its namespace, name and uid (what a log pipeline filters on)."""

from __future__ import annotations

import json

import pytest

from videojob_devenv.processes import wait_for

pytestmark = pytest.mark.cluster


def test_a_blocked_cleanup_is_logged_as_json_naming_the_videojob(cluster, start_operator) -> None:
    operator = start_operator(VIDEOJOB_LOG_FORMAT="json")  # and no S3 credentials: retention Delete cannot clean up
    uid = cluster.videojob("keep-me", output={"retention": "Delete"}, suspend=True)["metadata"]["uid"]

    def finalizers() -> list[str]:
        return cluster.get("vj", "keep-me")["metadata"].get("finalizers") or []

    wait_for(lambda: "videojob.dev/output-cleanup" in finalizers(), 30, "the output-cleanup finalizer")
    cluster.kubectl("delete", "vj", "keep-me", "--wait=false")

    def about_it() -> list[dict]:
        # json.loads raises on any line that is not JSON
        lines = [json.loads(line) for line in operator.log().splitlines() if line.strip()]
        return [
            line for line in lines if line.get("videojob", {}).get("name") == "keep-me" and line["level"] == "warning"
        ]

    [first, *_] = wait_for(about_it, 30, "a warning about keep-me in the operator's log")
    assert first["videojob"] == {"namespace": cluster.namespace, "name": "keep-me", "uid": uid}
    assert "no S3 credentials" in first["message"] and first["logger"] == "videojob.operator.reconciler"
