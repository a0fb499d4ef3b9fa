"""Events the operator posts on a VideoJob: the whole object, and how posting fails."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from videojob.operator.errors import PermanentApiError, TransientApiError
from videojob.operator.events import EventRecorder, build_event


def test_an_event_names_the_videojob_it_is_about(kube):
    videojob = kube.videojob(name="lesson", namespace="team-a")
    moment = datetime(2026, 11, 21, 10, 30, 5, 123456, tzinfo=UTC)
    assert build_event(videojob, "Warning", "OOMKilled", "The renderer ran out of memory", moment, instance="op-0") == {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": "lesson.", "namespace": "team-a"},
        "involvedObject": {
            "apiVersion": "videojob.dev/v1alpha1",
            "kind": "VideoJob",
            "name": "lesson",
            "namespace": "team-a",
            "uid": kube.UID,
        },
        "type": "Warning",
        "reason": "OOMKilled",
        "message": "The renderer ran out of memory",
        "source": {"component": "videojob-operator"},
        "reportingComponent": "videojob-operator",
        "reportingInstance": "op-0",
        "firstTimestamp": "2026-11-21T10:30:05Z",
        "lastTimestamp": "2026-11-21T10:30:05Z",
        "count": 1,
    }


def test_a_long_message_is_shortened_to_what_the_api_server_keeps(kube):
    event = build_event(kube.videojob(), "Warning", "RenderFailed", "x" * 5000, kube.NOW)
    assert len(event["message"]) == 1024 and event["message"].endswith("...")


class FlakyEvents:
    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.posted: list[tuple[str, dict]] = []

    async def create_event(self, namespace, event):
        if self.failures:
            raise self.failures.pop(0)
        self.posted.append((namespace, event))


def _post(api, bodies_and_reasons, expected):
    async def main():
        recorder = EventRecorder(api)
        recorder.start()
        for body, reason in bodies_and_reasons:
            recorder.record(body, "Normal", reason, "")
        for _ in range(400):
            if len(api.posted) >= expected:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # nothing more comes
        await recorder.close()

    asyncio.run(main())


def test_events_of_one_videojob_are_posted_in_order_each_to_its_own_namespace(kube):
    api = FlakyEvents([])
    first, second = kube.videojob(namespace="team-a"), kube.videojob(namespace="team-b")
    second["metadata"]["uid"] = "other-uid"
    _post(api, [(first, "JobCreated"), (second, "JobCreated"), (first, "Pending"), (first, "Rendering")], 4)
    assert [(ns, e["reason"]) for ns, e in api.posted if ns == "team-a"] == [
        ("team-a", "JobCreated"),
        ("team-a", "Pending"),
        ("team-a", "Rendering"),
    ]
    assert [(ns, e["involvedObject"]["uid"]) for ns, e in api.posted if ns == "team-b"] == [("team-b", "other-uid")]


def test_a_transient_failure_is_retried_and_a_forbidden_post_is_logged_not_raised(kube, caplog, monkeypatch):
    monkeypatch.setattr("videojob.operator.events.RETRY_DELAYS", (0.01, 0.01))
    api = FlakyEvents([TransientApiError("while posting Event: 503")])
    _post(api, [(kube.videojob(), "JobCreated")], 1)
    assert [e["reason"] for _, e in api.posted] == ["JobCreated"]

    api = FlakyEvents([PermanentApiError("while posting Event JobCreated in team-a: 403 Forbidden")])
    with caplog.at_level(logging.WARNING, logger="videojob.operator.events"):
        _post(api, [(kube.videojob(), "JobCreated"), (kube.videojob(), "Pending")], 1)
    assert [e["reason"] for _, e in api.posted] == ["Pending"]  # the next one still goes out
    assert (
        "dropped Event JobCreated on team-a/lesson: while posting Event JobCreated in team-a: 403 Forbidden"
        in caplog.text
    )
