"""Prometheus metrics of the operator (served on VIDEOJOB_METRICS_PORT; 0 turns them off).

Names follow Prometheus's conventions: base units (seconds, bytes), ``_total`` on
counters, and only bounded labels: phase, quality, source kind, stage, a failure
reason from a known set (anything else counts as ``Other``), never a VideoJob's name.
Every label value is initialised to zero at import, so the first failure of a kind is
an increase Prometheus sees, not a new series whose first sample is already 1.

The reconciler reports what it wrote (:func:`observe_status_write`) and what it read
(:func:`observe_progress_event`); the figures of a finished render come from its
status, so an operator restart counts nothing twice (the status it finds is already
terminal). Gauges about the VideoJobs that exist now are computed at scrape time
from the operator's cache (:func:`track_videojobs`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, cast, get_args, get_type_hints

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from videojob.contract import FailureReason, ProgressEvent, RendererPhase
from videojob.quality import QUALITY_NAMES
from videojob.spec import Source

from . import reasons
from .attempts import RETRY_REASONS
from .failures import STUCK_WAITING_REASONS

PHASES = (
    reasons.PENDING,
    reasons.QUEUED,
    reasons.SUSPENDED,
    *get_args(RendererPhase),
    reasons.PHASE_SUCCEEDED,
    reasons.PHASE_FAILED,
)
STAGES: tuple[str, ...] = get_args(RendererPhase)
SOURCE_KINDS: tuple[str, ...] = get_args(get_type_hints(cast(property, Source.kind).fget)["return"])
OTHER_REASON = "Other"
KNOWN_REASONS = frozenset(
    {value for key, value in vars(FailureReason).items() if key.isupper()}
    | {
        reasons.OOM_KILLED,
        reasons.DEADLINE_EXCEEDED,
        reasons.BACKOFF_LIMIT_EXCEEDED,
        reasons.INVALID_SPEC,
        reasons.INVALID_STORYBOARD,
        reasons.RENDER_FAILED,
        reasons.JOB_DELETED,
        reasons.SCRATCH_FULL,
    }
    | STUCK_WAITING_REASONS
)
# Failures caused by what the user asked for, not by the platform; alerts leave them out.
USER_ERROR_REASONS = frozenset({reasons.INVALID_SPEC, reasons.INVALID_STORYBOARD})

_QUICK = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_MINUTES = (1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)

RECONCILES = Counter(
    "videojob_operator_reconciles_total", "VideoJob reconciles, by outcome (ok or error).", ["outcome"]
)
PHASE_CHANGES = Counter("videojob_phase_transitions_total", "VideoJob phase changes, by the phase entered.", ["phase"])
FAILURES = Counter(
    "videojob_failures_total", "VideoJobs that failed, by reason (Other for a reason not known here).", ["reason"]
)
JOB_CREATION = Histogram(
    "videojob_job_creation_seconds", "From admitting a VideoJob to its renderer Job being created.", buckets=_QUICK
)
API_REQUESTS = Counter(
    "videojob_operator_api_requests_total",
    "Requests the operator sent to the Kubernetes API server, by verb and resource (watches and log streams aside).",
    ["verb", "resource"],
)
API_REQUEST_KINDS = (
    ("GET", "jobs"),
    ("GET", "pods"),
    ("POST", "configmaps"),
    ("POST", "jobs"),
    ("PATCH", "jobs"),
    ("PATCH", "videojobs"),
    ("PATCH", "videojobs/status"),
    ("DELETE", "videojobs"),
    ("POST", "events"),
)
QUEUE_LENGTH = Gauge("videojob_queue_length", "VideoJobs waiting for a render slot.")
PROGRESS_EVENTS = Counter("videojob_progress_events_total", "Progress events read from renderer logs.")

TIME_TO_VIDEO = Histogram(
    "videojob_time_to_video_seconds",
    "From a VideoJob's creation to its status saying Succeeded, by quality and source kind.",
    ["quality", "source_kind"],
    buckets=_MINUTES,
)
QUEUE_WAIT = Histogram(
    "videojob_queue_wait_seconds",
    "From a VideoJob's creation to its renderer Job starting (queued, admitted, Job created).",
    buckets=(0.5, *_MINUTES),
)
RETRIES = Counter(
    "videojob_render_retries_total", "Renderer attempts after the first (a Pod that failed and was replaced)."
)
STATUS_LAG = Histogram(
    "videojob_status_lag_seconds",
    "From a renderer's progress event (its own timestamp) to the status write that shows it.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
STAGE_SECONDS = Histogram(
    "videojob_render_stage_seconds",
    "How long a successful render spent in each stage, from the renderer's event times.",
    ["stage"],
    buckets=(0.1, 0.5, *_MINUTES),
)
VIDEO_SECONDS = Counter(
    "videojob_rendered_video_seconds_total", "Seconds of finished video produced, by quality.", ["quality"]
)
CPU_SECONDS = Counter(
    "videojob_render_cpu_seconds_total", "CPU seconds the successful renders used, by quality.", ["quality"]
)
PEAK_MEMORY = Histogram(
    "videojob_render_peak_memory_bytes",
    "The peak memory of each successful render (the renderer's container), by quality.",
    ["quality"],
    buckets=tuple(2**power * 2**20 for power in range(7, 16)),  # 128 MiB to 16 GiB
)
RENDER_CPU = Histogram(
    "videojob_render_cpu_per_render_seconds",
    "CPU seconds of each successful render, by quality (the total is videojob_render_cpu_seconds_total).",
    ["quality"],
    buckets=(10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400),
)
ATTEMPT_RETRIES = Counter(
    "videojob_attempt_retries_total",
    "Renderer attempts started again with more room after the previous attempt ran out of it, by reason "
    "(OOMKilled: more memory; ScratchFull: a bigger scratch volume) and quality.",
    ["reason", "quality"],
)
# Kept for the dashboards and alerts people already have: videojob_attempt_retries_total{reason="OOMKilled"}.
OOM_RETRIES = Counter(
    "videojob_oom_retries_total",
    "Renderer attempts started with more memory after an attempt was OOMKilled, by quality "
    '(the same as videojob_attempt_retries_total{reason="OOMKilled"}).',
    ["quality"],
)
OUTPUT_BYTES = Counter("videojob_output_bytes_total", "Bytes of finished video stored.")
SCENES_RENDERED = Counter("videojob_scenes_rendered_total", "Scenes rendered by Manim in successful renders.")
SCENES_CACHED = Counter("videojob_scenes_cached_total", "Scenes reused from the scene cache in successful renders.")
TTS_CHARACTERS = Counter("videojob_tts_characters_total", "Characters sent to text-to-speech by successful renders.")
LLM_TOKENS = Counter(
    "videojob_llm_tokens_total", "LLM tokens used by successful renders, by kind (prompt or completion).", ["kind"]
)

for _outcome in ("ok", "error"):
    RECONCILES.labels(_outcome)
for _verb, _resource in API_REQUEST_KINDS:
    API_REQUESTS.labels(_verb, _resource)
for _phase in PHASES:
    PHASE_CHANGES.labels(_phase)
for _reason in (*KNOWN_REASONS, OTHER_REASON):
    FAILURES.labels(_reason)
for _name in QUALITY_NAMES:
    VIDEO_SECONDS.labels(_name)
    CPU_SECONDS.labels(_name)
    PEAK_MEMORY.labels(_name)
    RENDER_CPU.labels(_name)
    OOM_RETRIES.labels(_name)
    for _reason in RETRY_REASONS:
        ATTEMPT_RETRIES.labels(_reason, _name)
    for _kind in SOURCE_KINDS:
        TIME_TO_VIDEO.labels(_name, _kind)
for _stage in STAGES:
    STAGE_SECONDS.labels(_stage)
for _kind in ("prompt", "completion"):
    LLM_TOKENS.labels(_kind)


def serve(port: int) -> None:
    if port:
        start_http_server(port)


def bounded_reason(reason: str) -> str:
    return reason if reason in KNOWN_REASONS else OTHER_REASON


def observe_failure(reason: str) -> None:
    FAILURES.labels(bounded_reason(reason)).inc()


def observe_attempt_retry(reason: str, quality: str | None) -> None:
    """The operator created attempt N+1 with more room because attempt N ran out of it (``reason``: OOMKilled
    or ScratchFull, see attempts.RETRY_REASONS). Called once per attempt created, so a restart counts none again."""
    quality = quality if quality in QUALITY_NAMES else "medium"
    ATTEMPT_RETRIES.labels(reason if reason in RETRY_REASONS else OTHER_REASON, quality).inc()
    if reason == reasons.OOM_KILLED:
        OOM_RETRIES.labels(quality).inc()


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _source_kind(spec: Mapping[str, Any]) -> str:
    source = spec.get("source") or {}
    return next((kind for kind in SOURCE_KINDS if kind in source), SOURCE_KINDS[0])


def _quality(spec: Mapping[str, Any]) -> str:
    quality = spec.get("quality")
    return quality if quality in QUALITY_NAMES else "medium"


# --- renders in flight: stage durations, status lag, progress age -------------------------


@dataclass
class _Render:
    pod_uid: str
    stage: str
    stage_began: datetime
    last_event: ProgressEvent
    lag_observed: bool = False


_renders: dict[str, _Render] = {}


def observe_progress_event(videojob_uid: str, pod_uid: str, event: ProgressEvent) -> None:
    """A progress line read from a renderer Pod's log (called for every one)."""
    PROGRESS_EVENTS.inc()
    render = _renders.get(videojob_uid)
    if render is None or render.pod_uid != pod_uid:  # a new attempt starts its stages afresh
        _renders[videojob_uid] = _Render(pod_uid, event.phase, event.time, event)
        return
    if event.time < render.last_event.time:
        return  # a line replayed after the log stream reconnected
    if event.phase != render.stage:
        STAGE_SECONDS.labels(render.stage).observe(max((event.time - render.stage_began).total_seconds(), 0.0))
        render.stage, render.stage_began = event.phase, event.time
    if event != render.last_event:
        render.last_event, render.lag_observed = event, False


def _observe_lag(uid: str, new: Mapping[str, Any], now: datetime) -> None:
    render = _renders.get(uid)
    if render is None or render.lag_observed:
        return
    event = render.last_event
    if new.get("phase") == event.phase and new.get("stage") == event.stage[:1024]:
        STATUS_LAG.observe(max((now - event.time).total_seconds(), 0.0))
        render.lag_observed = True


def _observe_finish(body: Mapping[str, Any], new: Mapping[str, Any], now: datetime) -> None:
    spec = body.get("spec") or {}
    uid = body["metadata"].get("uid", "")
    render = _renders.pop(uid, None)
    if new["phase"] != reasons.PHASE_SUCCEEDED:
        return
    quality = _quality(spec)
    if render is not None:  # the last stage ends with the render
        STAGE_SECONDS.labels(render.stage).observe(max((now - render.stage_began).total_seconds(), 0.0))
    created = _parse_time(body["metadata"].get("creationTimestamp"))
    if created is not None:
        TIME_TO_VIDEO.labels(quality, _source_kind(spec)).observe(max((now - created).total_seconds(), 0.0))
    output, usage = new.get("output") or {}, new.get("usage") or {}
    if output.get("cached"):
        return  # an identical video was already stored: nothing was rendered this time
    VIDEO_SECONDS.labels(quality).inc(float(output.get("durationSeconds") or 0))
    OUTPUT_BYTES.inc(int(output.get("sizeBytes") or 0))
    CPU_SECONDS.labels(quality).inc(float(usage.get("cpuSeconds") or 0))
    if usage.get("cpuSeconds"):
        RENDER_CPU.labels(quality).observe(float(usage["cpuSeconds"]))
    if usage.get("peakMemoryBytes"):  # 0 or absent: a renderer older than the figure
        PEAK_MEMORY.labels(quality).observe(int(usage["peakMemoryBytes"]))
    SCENES_RENDERED.inc(int(usage.get("scenesRendered") or 0))
    SCENES_CACHED.inc(int(usage.get("scenesCached") or 0))
    TTS_CHARACTERS.inc(int(usage.get("ttsCharacters") or 0))
    LLM_TOKENS.labels("prompt").inc(int(usage.get("llmPromptTokens") or 0))
    LLM_TOKENS.labels("completion").inc(int(usage.get("llmCompletionTokens") or 0))


def observe_status_write(
    body: Mapping[str, Any],
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    now: datetime | None = None,
    *,
    job: Mapping[str, Any] | None = None,
) -> None:
    """The operator wrote ``new`` over ``old`` in this VideoJob's status (called after each write); ``job``: the
    renderer Job the status was computed from. A fan-out's Job starts one Pod per index (its completions), and
    status.attempts counts them all: those first Pods are not retries."""
    now = now or datetime.now(UTC)
    uid = body["metadata"].get("uid", "")
    started = _parse_time(new.get("startTime"))
    created = _parse_time(body["metadata"].get("creationTimestamp"))
    if started is not None and not old.get("startTime") and created is not None:
        QUEUE_WAIT.observe(max((started - created).total_seconds(), 0.0))
    first_pods = int(((job or {}).get("spec") or {}).get("completions") or 1)
    attempts, before = int(new.get("attempts") or 0), max(int(old.get("attempts") or 0), first_pods)
    if attempts > before:
        RETRIES.inc(attempts - before)
    _observe_lag(uid, new, now)
    if new.get("phase") in reasons.TERMINAL_PHASES and old.get("phase") not in reasons.TERMINAL_PHASES:
        _observe_finish(body, new, now)


# --- gauges from the cache, at scrape time -----------------------------------------------


class _Cache(Protocol):
    videojobs: Mapping[str, Iterable[Mapping[str, Any]]]  # kopf's index: uid -> store of (one) VideoJob


class _CacheCollector(Collector):
    def __init__(self) -> None:
        self.world: Callable[[], _Cache | None] | None = None

    def collect(self) -> Iterable[GaugeMetricFamily]:
        by_phase = GaugeMetricFamily("videojob_videojobs", "VideoJobs that exist now, by phase.", labels=["phase"])
        running = GaugeMetricFamily("videojob_renders_running", "VideoJobs whose renderer is working on them now.")
        oldest = GaugeMetricFamily(
            "videojob_oldest_waiting_seconds",
            "Age of the oldest VideoJob not rendering yet: queued for a slot or a node, "
            "or not started (0 when none waits).",
        )
        stalled = GaugeMetricFamily(
            "videojob_longest_without_progress_seconds",
            "Of the renders running now, the longest time one has gone without a progress event.",
        )
        counts = dict.fromkeys(PHASES, 0)
        waiting_since: list[datetime] = []
        quiet_since: list[datetime] = []
        alive: set[str] = set()
        world = self.world() if self.world else None
        bodies = [body for store in list(world.videojobs.values()) for body in store] if world is not None else []
        for body in bodies:
            metadata, status = body.get("metadata") or {}, body.get("status") or {}
            phase = status.get("phase") or reasons.PENDING
            counts[phase] = counts.get(phase, 0) + 1
            alive.add(metadata.get("uid", ""))
            if phase in reasons.TERMINAL_PHASES or phase == reasons.SUSPENDED or metadata.get("deletionTimestamp"):
                continue
            started = _parse_time(status.get("startTime"))
            if phase == reasons.QUEUED or started is None:  # for a slot, for a node (unschedulable), or not started
                if (created := _parse_time(metadata.get("creationTimestamp"))) is not None:
                    waiting_since.append(created)
            elif phase in STAGES or phase == reasons.PENDING:
                render = _renders.get(metadata.get("uid", ""))
                quiet_since.append(max(started, render.last_event.time) if render else started)
        for uid in [uid for uid in _renders if uid not in alive]:
            del _renders[uid]  # deleted mid-render: nothing will finish it
        now = datetime.now(UTC)
        for phase, count in counts.items():
            by_phase.add_metric([phase], count)
        running.add_metric([], sum(counts.get(stage, 0) for stage in STAGES))
        oldest.add_metric([], max(((now - t).total_seconds() for t in waiting_since), default=0.0))
        stalled.add_metric([], max(((now - t).total_seconds() for t in quiet_since), default=0.0))
        yield from (by_phase, running, oldest, stalled)


_cache = _CacheCollector()
REGISTRY.register(_cache)


def track_videojobs(world: Callable[[], _Cache | None]) -> None:
    """Compute the by-phase, running, waiting and progress gauges from ``world().videojobs`` (the operator's cache)."""
    _cache.world = world
