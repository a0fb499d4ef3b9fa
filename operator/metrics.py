"""Prometheus metrics of the operator (served on VIDEOJOB_METRICS_PORT; 0 turns them off)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

RECONCILES = Counter("videojob_operator_reconciles_total", "VideoJob reconciles, by outcome.", ["outcome"])
PHASE_CHANGES = Counter("videojob_phase_transitions_total", "VideoJob phase changes, by the phase entered.", ["phase"])
FAILURES = Counter("videojob_failures_total", "VideoJobs that failed, by reason.", ["reason"])
JOB_CREATION = Histogram(
    "videojob_job_creation_seconds", "From admitting a VideoJob to its renderer Job being created.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
QUEUE_LENGTH = Gauge("videojob_queue_length", "VideoJobs waiting for a render slot.")
PROGRESS_EVENTS = Counter("videojob_progress_events_total", "Progress events read from renderer logs.")


def serve(port: int) -> None:
    if port:
        start_http_server(port)
