"""Real-looking VideoJob, Job and Pod objects, shaped as the API server returns them."""

from __future__ import annotations

import types
from datetime import UTC, datetime
from typing import Any

import pytest

from videojob.contract import Failure, ProgressEvent, Result, StoredOutput, Usage, encode_termination_message

NOW = datetime(2026, 11, 21, 10, 30, 0, tzinfo=UTC)
UID = "3f0c6a52-9d1e-4c55-8a53-0c1f6b7f2e10"
SHA = "a" * 64


def videojob(
    name: str = "lesson", namespace: str = "team-a", status: dict | None = None, **spec: Any
) -> dict[str, Any]:
    body = {
        "apiVersion": "videojob.dev/v1alpha1",
        "kind": "VideoJob",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": UID,
            "generation": 1,
            "creationTimestamp": "2026-11-21T10:00:00Z",
        },
        "spec": {
            "source": {"markdown": "# Pythagoras\n\n$$a^2+b^2=c^2$$\n"},
            "quality": "medium",
            "theme": "default",
            "durationSeconds": 120,
            "language": "en",
            "llm": {"provider": "offline"},
            "output": {"retention": "Retain"},
            "retries": 2,
            "activeDeadlineSeconds": 3600,
            "suspend": False,
            "parallelism": 1,
        }
        | spec,
    }
    if status is not None:
        body["status"] = status
    return body


def job(
    conditions: list[dict] | None = None,
    active: int = 0,
    failed: int = 0,
    succeeded: int = 0,
    suspended: bool = False,
    name: str = "lesson-5b2d0e56-1",
) -> dict[str, Any]:
    status: dict[str, Any] = {"startTime": "2026-11-21T10:00:02Z"}
    for key, value in (("active", active), ("failed", failed), ("succeeded", succeeded)):
        if value:
            status[key] = value
    if conditions:
        status["conditions"] = conditions
    if succeeded:
        status["completionTime"] = "2026-11-21T10:04:10Z"
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": "team-a"},
        "spec": {"suspend": suspended},
        "status": status,
    }


def job_condition(type_: str, reason: str, message: str = "") -> dict[str, Any]:
    return {
        "type": type_,
        "status": "True",
        "reason": reason,
        "message": message,
        "lastProbeTime": "2026-11-21T10:05:00Z",
        "lastTransitionTime": "2026-11-21T10:05:00Z",
    }


def pod(
    name: str = "lesson-5b2d0e56-1-abcde",
    phase: str = "Running",
    created: str = "2026-11-21T10:00:03Z",
    state: dict | None = None,
    last_state: dict | None = None,
    conditions: list[dict] | None = None,
    memory_limit: str = "2Gi",
    job_name: str = "lesson-5b2d0e56-1",
) -> dict[str, Any]:
    container_status = {
        "name": "renderer",
        "image": "ghcr.io/videojob/renderer:0.1.0",
        "ready": phase == "Running",
        "restartCount": 0,
        "state": state or {"running": {"startedAt": created}},
    }
    if last_state:
        container_status["lastState"] = last_state
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "team-a",
            "creationTimestamp": created,
            "uid": f"uid-{name}",
            "labels": {"batch.kubernetes.io/job-name": job_name, "job-name": job_name},
        },
        "spec": {
            "containers": [
                {
                    "name": "renderer",
                    "image": "ghcr.io/videojob/renderer:0.1.0",
                    "resources": {"limits": {"cpu": "2", "memory": memory_limit}},
                }
            ]
        },
        "status": {"phase": phase, "conditions": conditions or [], "containerStatuses": [container_status]},
    }


def terminated(exit_code: int, reason: str = "Error", message: str | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {
        "exitCode": exit_code,
        "reason": reason,
        "startedAt": "2026-11-21T10:00:04Z",
        "finishedAt": "2026-11-21T10:03:00Z",
    }
    if message is not None:
        state["message"] = message
    return {"terminated": state}


def result_message() -> str:
    return encode_termination_message(
        Result(
            output=StoredOutput.model_validate(
                {
                    "bucket": "videos",
                    "key": "outputs/team-a/lesson/x/video.mp4",
                    "sizeBytes": 1234567,
                    "sha256": SHA,
                    "durationSeconds": 61.5,
                    "thumbnail": "outputs/team-a/lesson/x/thumbnail.png",
                }
            ),
            usage=Usage(ttsCharacters=812, cpuSeconds=301.5, scenesRendered=4),
        )
    )


def failure_message(reason: str, message: str) -> str:
    return encode_termination_message(Failure(reason=reason, message=message))


def progress(
    phase: str = "Rendering", percent: float = 42.0, stage: str = "Rendering scene 3/7", eta: float | None = 90
) -> ProgressEvent:
    return ProgressEvent(phase=phase, progress=percent, stage=stage, scene=3, scenes=7, etaSeconds=eta, time=NOW)


@pytest.fixture
def kube() -> types.SimpleNamespace:
    return types.SimpleNamespace(
        NOW=NOW,
        UID=UID,
        SHA=SHA,
        videojob=videojob,
        job=job,
        job_condition=job_condition,
        pod=pod,
        terminated=terminated,
        result_message=result_message,
        failure_message=failure_message,
        progress=progress,
    )
