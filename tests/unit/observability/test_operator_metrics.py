"""What the operator's /metrics says after renders finish, fail and report progress.

The metrics live in prometheus_client's process-wide registry, so every test reads the
change it caused (after - before), never an absolute value.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client import REGISTRY, generate_latest

from videojob.contract import ProgressEvent
from videojob.operator import metrics

CREATED = datetime(2026, 11, 21, 10, 0, 0, tzinfo=UTC)
UID = "9a1d0d7c-5a3e-4b8f-9d8e-111111111111"
POD = "pod-uid-1"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def delta() -> Callable[..., Callable[[], float]]:
    def measure(name: str, **labels: str) -> Callable[[], float]:
        before = sample(name, **labels)
        return lambda: sample(name, **labels) - before

    return measure


def body(uid: str = UID, source: str = "markdown", quality: str = "low", **status: Any) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "lesson",
            "namespace": "team-a",
            "uid": uid,
            "creationTimestamp": CREATED.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "spec": {"source": {source: "# T"}, "quality": quality},
        "status": status,
    }


def event(phase: str, seconds: float, stage: str | None = None) -> ProgressEvent:
    return ProgressEvent(
        phase=phase, progress=10, stage=stage or f"{phase}...", time=CREATED + timedelta(seconds=seconds)
    )


SUCCEEDED: dict[str, Any] = {
    "phase": "Succeeded",
    "stage": "Done",
    "attempts": 1,
    "startTime": "2026-11-21T10:00:05Z",
    "output": {"bucket": "videos", "key": "k", "sizeBytes": 2_000_000, "sha256": "a" * 64, "durationSeconds": 58.0},
    "usage": {
        "cpuSeconds": 120.0,
        "scenesRendered": 3,
        "scenesCached": 1,
        "ttsCharacters": 900,
        "llmPromptTokens": 50,
        "llmCompletionTokens": 700,
    },
}


@pytest.fixture(autouse=True)
def no_renders_left() -> Iterator[None]:
    yield
    metrics._renders.clear()
    metrics.track_videojobs(lambda: None)


def test_a_finished_video_counts_its_time_by_quality_and_source_kind_and_its_figures(delta) -> None:
    to_video = delta("videojob_time_to_video_seconds_count", quality="low", source_kind="storyboard")
    to_video_sum = delta("videojob_time_to_video_seconds_sum", quality="low", source_kind="storyboard")
    video = delta("videojob_rendered_video_seconds_total", quality="low")
    cpu = delta("videojob_render_cpu_seconds_total", quality="low")
    scenes, cached = delta("videojob_scenes_rendered_total"), delta("videojob_scenes_cached_total")
    tts, completion = delta("videojob_tts_characters_total"), delta("videojob_llm_tokens_total", kind="completion")
    output_bytes = delta("videojob_output_bytes_total")

    metrics.observe_status_write(
        body(source="storyboard"), {"phase": "Uploading"}, SUCCEEDED, now=CREATED + timedelta(seconds=90)
    )

    assert (to_video(), to_video_sum()) == (1, 90)
    figures = (video(), cpu(), scenes(), cached(), tts(), completion(), output_bytes())
    assert figures == (58, 120, 3, 1, 900, 700, 2_000_000)


def test_a_status_rewritten_after_the_end_counts_nothing_twice(delta) -> None:
    to_video = delta("videojob_time_to_video_seconds_count", quality="low", source_kind="markdown")
    video = delta("videojob_rendered_video_seconds_total", quality="low")
    metrics.observe_status_write(body(), {"phase": "Rendering"}, SUCCEEDED)
    metrics.observe_status_write(body(), SUCCEEDED, SUCCEEDED | {"stage": "Done."})  # e.g. after an operator restart
    assert (to_video(), video()) == (1, 58)


def test_a_cached_video_is_a_finished_video_but_renders_nothing(delta) -> None:
    to_video = delta("videojob_time_to_video_seconds_count", quality="low", source_kind="markdown")
    video = delta("videojob_rendered_video_seconds_total", quality="low")
    cached = SUCCEEDED | {"output": SUCCEEDED["output"] | {"cached": True}}
    metrics.observe_status_write(body(), {"phase": "Pending"}, cached)
    assert (to_video(), video()) == (1, 0)


def test_queue_wait_is_creation_to_the_renderer_starting_observed_once(delta) -> None:
    count, total = delta("videojob_queue_wait_seconds_count"), delta("videojob_queue_wait_seconds_sum")
    started = {"phase": "Pending", "startTime": "2026-11-21T10:02:00Z"}
    metrics.observe_status_write(body(), {"phase": "Queued"}, started)
    metrics.observe_status_write(body(), started, started | {"phase": "Scripting"})
    assert (count(), total()) == (1, 120)


def test_each_replacement_attempt_counts_as_a_retry(delta) -> None:
    retries = delta("videojob_render_retries_total")
    metrics.observe_status_write(body(), {"attempts": 1}, {"attempts": 1, "phase": "Rendering"})
    metrics.observe_status_write(body(), {"attempts": 1}, {"attempts": 3, "phase": "Pending"})
    assert retries() == 2


def test_a_fan_outs_first_pods_are_not_retries_but_a_retried_index_is(delta) -> None:
    retries = delta("videojob_render_retries_total")
    shares = {"spec": {"completions": 3}}  # an Indexed Job of 3 Pods: status.attempts counts each
    metrics.observe_status_write(body(), {"phase": "Pending"}, {"attempts": 3, "phase": "Rendering"}, job=shares)
    assert retries() == 0
    metrics.observe_status_write(body(), {"attempts": 3}, {"attempts": 4, "phase": "Rendering"}, job=shares)
    assert retries() == 1  # one index's Pod failed and was replaced


def test_an_unknown_failure_reason_is_counted_as_other_so_the_label_stays_bounded(delta) -> None:
    oom, other = delta("videojob_failures_total", reason="OOMKilled"), delta("videojob_failures_total", reason="Other")
    metrics.observe_failure("OOMKilled")
    metrics.observe_failure("SomethingANewRendererInvented")
    assert (oom(), other()) == (1, 1)


def test_stage_durations_come_from_the_renderers_event_times(delta) -> None:
    scripting = delta("videojob_render_stage_seconds_sum", stage="Scripting")
    rendering = delta("videojob_render_stage_seconds_sum", stage="Rendering")
    uploading = delta("videojob_render_stage_seconds_sum", stage="Uploading")
    for phase, at in (("Scripting", 0), ("Scripting", 2), ("Rendering", 4), ("Rendering", 30), ("Uploading", 34)):
        metrics.observe_progress_event(UID, POD, event(phase, at))
    metrics.observe_status_write(body(), {"phase": "Uploading"}, SUCCEEDED, now=CREATED + timedelta(seconds=40))
    assert (scripting(), rendering(), uploading()) == (4, 30, 6)


def test_a_new_attempts_pod_starts_its_stages_afresh(delta) -> None:
    rendering = delta("videojob_render_stage_seconds_count", stage="Rendering")
    metrics.observe_progress_event(UID, POD, event("Rendering", 0))
    metrics.observe_progress_event(UID, "pod-uid-2", event("Scripting", 100))  # the first Pod died mid-render
    assert rendering() == 0


def test_status_lag_is_the_events_time_to_the_write_that_shows_it_once(delta) -> None:
    count, total = delta("videojob_status_lag_seconds_count"), delta("videojob_status_lag_seconds_sum")
    metrics.observe_progress_event(UID, POD, event("Rendering", 10, "Rendering scene 2/3"))
    shown = {"phase": "Rendering", "stage": "Rendering scene 2/3"}
    metrics.observe_status_write(body(), {"phase": "Scripting"}, shown, now=CREATED + timedelta(seconds=10.5))
    metrics.observe_status_write(body(), shown, shown | {"attempts": 1}, now=CREATED + timedelta(seconds=20))
    assert (count(), total()) == (1, 0.5)


def world(*bodies: dict[str, Any]) -> SimpleNamespace:
    return SimpleNamespace(videojobs={b["metadata"]["uid"]: [b] for b in bodies})


def test_videojobs_by_phase_and_the_waiting_and_stalled_gauges_come_from_the_cache() -> None:
    now = datetime.now(UTC)
    stamp = lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    ten_minutes_ago = stamp(now - timedelta(minutes=10))
    waiting = body("a", phase="Queued") | {"metadata": {"uid": "a", "creationTimestamp": ten_minutes_ago}}
    rendering = body("b", phase="Rendering", startTime=stamp(now - timedelta(minutes=20)))
    five_minutes_ago = now - timedelta(minutes=5)
    metrics.observe_progress_event(
        "b", POD, ProgressEvent(phase="Rendering", progress=50, stage="s", time=five_minutes_ago)
    )
    done = body("c", phase="Succeeded", startTime=stamp(now - timedelta(hours=1)))
    metrics.track_videojobs(lambda: world(waiting, rendering, done))

    by_phase = [sample("videojob_videojobs", phase=p) for p in ("Queued", "Rendering", "Succeeded", "Failed")]
    assert by_phase == [1, 1, 1, 0]
    assert sample("videojob_renders_running") == 1
    assert 595 <= sample("videojob_oldest_waiting_seconds") <= 605
    assert 295 <= sample("videojob_longest_without_progress_seconds") <= 305


def test_a_render_no_node_can_take_counts_as_waiting_from_its_creation() -> None:
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    unschedulable = body("u", phase="Queued", startTime=an_hour_ago)  # the Job started; its Pod has no node
    unschedulable["metadata"]["creationTimestamp"] = an_hour_ago
    metrics.track_videojobs(lambda: world(unschedulable))
    assert 3595 <= sample("videojob_oldest_waiting_seconds") <= 3605
    assert sample("videojob_longest_without_progress_seconds") == 0


def test_a_render_deleted_midway_is_forgotten_at_the_next_scrape() -> None:
    metrics.observe_progress_event("gone", POD, event("Rendering", 0))
    metrics.track_videojobs(lambda: world())
    generate_latest(REGISTRY)
    assert "gone" not in metrics._renders


def test_the_metrics_page_passes_promtool_check_metrics() -> None:
    metrics.observe_status_write(body(), {"phase": "Uploading"}, SUCCEEDED)
    page = generate_latest(REGISTRY)
    checked = subprocess.run(["promtool", "check", "metrics"], input=page, capture_output=True)
    assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()
    assert b"videojob_time_to_video_seconds_bucket" in page and b"videojob_videojobs{" in page
