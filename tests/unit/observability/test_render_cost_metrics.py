"""The operator exports each successful render's peak memory and CPU by quality, from its status' usage."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import REGISTRY
from prometheus_client.utils import floatToGoString

from videojob.operator import metrics

UID = "9a1d0d7c-5a3e-4b8f-9d8e-222222222222"
FINISHED = {
    "phase": "Succeeded",
    "output": {"bucket": "videos", "key": "k", "sizeBytes": 1, "sha256": "a" * 64, "durationSeconds": 30.0},
    "usage": {"cpuSeconds": 95.5, "peakMemoryBytes": 700 * 2**20},
}


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def body(quality: str) -> dict:
    metadata = {"name": "lesson", "namespace": "team-a", "uid": UID, "creationTimestamp": "2026-11-21T10:00:00Z"}
    return {"metadata": metadata, "spec": {"source": {"markdown": "# T"}, "quality": quality}}


def test_peak_memory_and_cpu_of_a_finished_render_are_observed_by_quality() -> None:
    names = ("videojob_render_peak_memory_bytes", "videojob_render_cpu_per_render_seconds")
    before = {(name, suffix): sample(name + suffix, quality="high") for name in names for suffix in ("_count", "_sum")}
    under_1gib = sample("videojob_render_peak_memory_bytes_bucket", quality="high", le=floatToGoString(2**30))
    metrics.observe_status_write(body("high"), {"phase": "Uploading"}, FINISHED, now=datetime(2026, 11, 21, tzinfo=UTC))
    after = {key: sample(key[0] + key[1], quality="high") - value for key, value in before.items()}
    assert after == {
        ("videojob_render_peak_memory_bytes", "_count"): 1,
        ("videojob_render_peak_memory_bytes", "_sum"): 700 * 2**20,
        ("videojob_render_cpu_per_render_seconds", "_count"): 1,
        ("videojob_render_cpu_per_render_seconds", "_sum"): 95.5,
    }
    assert (
        sample("videojob_render_peak_memory_bytes_bucket", quality="high", le=floatToGoString(2**30)) - under_1gib == 1
    )


def test_a_renderer_that_reports_no_peak_memory_adds_no_sample() -> None:
    count = sample("videojob_render_peak_memory_bytes_count", quality="low")
    older_renderer = FINISHED | {"usage": {"cpuSeconds": 10.0}}
    metrics.observe_status_write(body("low"), {"phase": "Uploading"}, older_renderer)
    assert sample("videojob_render_peak_memory_bytes_count", quality="low") == count
