"""videojob's Grafana dashboards, as code: the one source of charts/videojob/dashboards/*.json.

Four dashboards (overview, renders, gateway, operator) built from :mod:`videojob_devenv.grafana`'s
typed pieces. Every query selects the scrape jobs of :mod:`videojob_devenv.prometheus`, and a
test evaluates each one against a real Prometheus after real jobs: every panel has data.
Regenerate the files with ``hack/gen-observability``.
"""

from __future__ import annotations

from typing import Any

from videojob_devenv.grafana import OP, RATE, Dashboard, dashboard, quantiles, series, stat
from videojob_devenv.prometheus import GATEWAY

GW = f'job="{GATEWAY.job}"'

FINISHED = f'videojob_phase_transitions_total{{{OP}, phase=~"Succeeded|Failed"}}'
SUCCEEDED = f'videojob_phase_transitions_total{{{OP}, phase="Succeeded"}}'


def overview() -> Dashboard:
    return dashboard(
        "videojob-overview",
        "videojob / Overview",
        "Videos made, how long they take, and the queue.",
        [
            [
                stat(
                    "Videos in the last hour",
                    "VideoJobs that reached Succeeded in the last hour.",
                    "short",
                    (f"sum(increase({SUCCEEDED}[1h]))", "videos"),
                ),
                stat(
                    "Success ratio",
                    "Of the VideoJobs finished in the dashboard's time range, the share that succeeded.",
                    "percentunit",
                    (f"sum(increase({SUCCEEDED}[$__range])) / sum(increase({FINISHED}[$__range]))", "success"),
                ),
                stat(
                    "Waiting now",
                    "VideoJobs waiting for a render slot.",
                    "short",
                    (f"sum(videojob_queue_length{{{OP}}})", "queued"),
                ),
                stat(
                    "Rendering now",
                    "VideoJobs whose renderer is working on them.",
                    "short",
                    (f"sum(videojob_renders_running{{{OP}}})", "running"),
                ),
            ],
            [
                series(
                    "Videos per hour",
                    "Finished VideoJobs per hour, by outcome.",
                    "short",
                    (f"sum by (phase) (rate({FINISHED}[{RATE}])) * 3600", "{{phase}}"),
                ),
                series(
                    "Time to video",
                    "From creating a VideoJob to its video being stored.",
                    "s",
                    *quantiles("videojob_time_to_video_seconds"),
                ),
            ],
            [
                series(
                    "Time to video by quality",
                    "95th percentile, by quality.",
                    "s",
                    *quantiles("videojob_time_to_video_seconds", "quality", (0.95,)),
                ),
                series(
                    "Queue",
                    "VideoJobs waiting for a render slot, and the age of the oldest one not started.",
                    "short",
                    (f"sum(videojob_queue_length{{{OP}}})", "waiting"),
                    (f"max(videojob_oldest_waiting_seconds{{{OP}}}) / 60", "oldest wait (minutes)"),
                ),
            ],
            [
                series(
                    "Queue wait",
                    "From creating a VideoJob to its renderer starting.",
                    "s",
                    *quantiles("videojob_queue_wait_seconds"),
                ),
                series(
                    "VideoJobs by phase",
                    "Every VideoJob that exists, by its status.phase.",
                    "short",
                    (f"sum by (phase) (videojob_videojobs{{{OP}}})", "{{phase}}"),
                ),
            ],
        ],
    )


def renders() -> Dashboard:
    about = "Inside the renders: stages, cost, cache and failures."
    return dashboard(
        "videojob-renders",
        "videojob / Renders",
        about,
        [
            [
                stat(
                    "Video produced in the last hour",
                    "Seconds of finished video stored.",
                    "s",
                    (f"sum(increase(videojob_rendered_video_seconds_total{{{OP}}}[1h]))", "video"),
                ),
                stat(
                    "CPU per video second",
                    "CPU seconds spent for each second of video, over the time range.",
                    "short",
                    (
                        f"sum(increase(videojob_render_cpu_seconds_total{{{OP}}}[$__range])) "
                        f"/ sum(increase(videojob_rendered_video_seconds_total{{{OP}}}[$__range]))",
                        "cpu/s",
                    ),
                ),
                stat(
                    "Scene cache hit ratio",
                    "Scenes reused from the scene cache, of all scenes in successful renders.",
                    "percentunit",
                    (
                        f"sum(increase(videojob_scenes_cached_total{{{OP}}}[$__range])) / "
                        f"(sum(increase(videojob_scenes_cached_total{{{OP}}}[$__range])) + "
                        f"sum(increase(videojob_scenes_rendered_total{{{OP}}}[$__range])))",
                        "hits",
                    ),
                ),
                stat(
                    "Retries in the time range",
                    "Renderer attempts after the first.",
                    "short",
                    (f"sum(increase(videojob_render_retries_total{{{OP}}}[$__range]))", "retries"),
                ),
            ],
            [
                series(
                    "Stage durations (median)",
                    "How long successful renders spend in each stage.",
                    "s",
                    *quantiles("videojob_render_stage_seconds", "stage", (0.5,)),
                ),
                series(
                    "CPU per video second by quality",
                    "CPU seconds per second of video produced.",
                    "short",
                    (
                        f"sum by (quality) (rate(videojob_render_cpu_seconds_total{{{OP}}}[{RATE}])) "
                        f"/ sum by (quality) (rate(videojob_rendered_video_seconds_total{{{OP}}}[{RATE}]))",
                        "{{quality}}",
                    ),
                ),
            ],
            [
                series(
                    "Peak memory per render",
                    "The renderer container's peak memory in successful renders, by quality: how close the "
                    "quality's memory preset (or spec.resources) is to what renders need.",
                    "bytes",
                    *quantiles("videojob_render_peak_memory_bytes", "quality"),
                ),
                series(
                    "CPU per render",
                    "CPU seconds of each successful render, by quality.",
                    "s",
                    *quantiles("videojob_render_cpu_per_render_seconds", "quality"),
                ),
                series(
                    "Attempts retried bigger",
                    "Attempts started again with more room after the last one ran out of it, per hour, by reason "
                    "(OOMKilled: more memory; ScratchFull: a bigger scratch volume) and quality. Many of one reason "
                    "mean that quality's preset is too small for the renders people ask for.",
                    "short",
                    (
                        f"sum by (reason, quality) (rate(videojob_attempt_retries_total{{{OP}}}[{RATE}])) * 3600",
                        "{{reason}} {{quality}}",
                    ),
                ),
            ],
            [
                series(
                    "Failures by reason",
                    "Failed VideoJobs per hour, by the reason in status.failure.",
                    "short",
                    (f"sum by (reason) (rate(videojob_failures_total{{{OP}}}[{RATE}])) * 3600 > 0", "{{reason}}"),
                ),
                series(
                    "Scenes",
                    "Scenes rendered and reused from the cache, per minute.",
                    "short",
                    (f"sum(rate(videojob_scenes_rendered_total{{{OP}}}[{RATE}])) * 60", "rendered"),
                    (f"sum(rate(videojob_scenes_cached_total{{{OP}}}[{RATE}])) * 60", "cached"),
                ),
            ],
            [
                series(
                    "Narration and LLM",
                    "Characters sent to speech and LLM tokens used, per minute.",
                    "short",
                    (f"sum(rate(videojob_tts_characters_total{{{OP}}}[{RATE}])) * 60", "TTS characters"),
                    (f"sum by (kind) (rate(videojob_llm_tokens_total{{{OP}}}[{RATE}])) * 60", "LLM {{kind}} tokens"),
                ),
                series(
                    "Output stored",
                    "Bytes of finished video stored, per minute.",
                    "bytes",
                    (f"sum(rate(videojob_output_bytes_total{{{OP}}}[{RATE}])) * 60", "bytes"),
                ),
            ],
        ],
    )


def gateway() -> Dashboard:
    requests = f"videojob_gateway_requests_total{{{GW}}}"
    return dashboard(
        "videojob-gateway",
        "videojob / Gateway",
        "The HTTP gateway: rate, errors, latency, limits.",
        [
            [
                stat(
                    "Requests per second", "All requests, now.", "reqps", (f"sum(rate({requests}[{RATE}]))", "requests")
                ),
                stat(
                    "Server errors",
                    "Share of responses with a 5xx status over the time range.",
                    "percentunit",
                    (
                        f'(sum(increase(videojob_gateway_requests_total{{{GW}, status=~"5.."}}[$__range]))'
                        f" or vector(0)) / sum(increase({requests}[$__range]))",
                        "5xx",
                    ),
                ),
                stat(
                    "Event streams open",
                    "Server-sent event streams open now.",
                    "short",
                    (f"sum(videojob_gateway_event_streams{{{GW}}})", "streams"),
                ),
            ],
            [
                series(
                    "Requests by route",
                    "Requests per second, by route template.",
                    "reqps",
                    (f"sum by (route) (rate({requests}[{RATE}]))", "{{route}}"),
                ),
                series(
                    "Responses by status",
                    "Requests per second, by status code.",
                    "reqps",
                    (f"sum by (status) (rate({requests}[{RATE}]))", "{{status}}"),
                ),
            ],
            [
                series(
                    "Latency",
                    "Time to the first byte of the response.",
                    "s",
                    *quantiles("videojob_gateway_request_seconds", qs=(0.5, 0.95, 0.99), job=GW),
                ),
                series(
                    "Refused: 429s, rate limit and quota",
                    "Refused requests per minute.",
                    "short",
                    (
                        f'(sum(rate(videojob_gateway_requests_total{{{GW}, status="429"}}[{RATE}])) or vector(0)) * 60',
                        "429s",
                    ),
                    (
                        f"(sum(rate(videojob_gateway_rate_limited_total{{{GW}}}[{RATE}])) or vector(0)) * 60",
                        "rate limited",
                    ),
                    (
                        f"(sum(rate(videojob_gateway_quota_refused_total{{{GW}}}[{RATE}])) or vector(0)) * 60",
                        "over quota",
                    ),
                ),
            ],
        ],
    )


def operator() -> Dashboard:
    reconciles = f"videojob_operator_reconciles_total{{{OP}}}"
    return dashboard(
        "videojob-operator",
        "videojob / Operator",
        "The operator itself: reconciles, lag, resources.",
        [
            [
                stat(
                    "Up",
                    "Whether Prometheus can scrape the operator (1) or not (0).",
                    "short",
                    (f"max(up{{{OP}}})", "up"),
                ),
                stat(
                    "Restarts in the time range",
                    "Times the operator process started again.",
                    "short",
                    (f"sum(changes(process_start_time_seconds{{{OP}}}[$__range]))", "restarts"),
                ),
                stat(
                    "Memory now",
                    "Resident memory of the operator process.",
                    "bytes",
                    (f"max(process_resident_memory_bytes{{{OP}}})", "memory"),
                ),
                stat(
                    "Reconcile errors",
                    "Share of reconciles that failed over the time range.",
                    "percentunit",
                    (
                        f'sum(increase(videojob_operator_reconciles_total{{{OP}, outcome="error"}}[$__range])) '
                        f"/ sum(increase({reconciles}[$__range]))",
                        "errors",
                    ),
                ),
            ],
            [
                series(
                    "Reconciles",
                    "Reconciles per second, by outcome.",
                    "ops",
                    (f"sum by (outcome) (rate({reconciles}[{RATE}]))", "{{outcome}}"),
                ),
                series(
                    "Status lag",
                    "From a renderer's progress event to the status write that shows it.",
                    "s",
                    *quantiles("videojob_status_lag_seconds"),
                ),
            ],
            [
                series(
                    "Renderer Job creation",
                    "From admitting a VideoJob to its renderer Job being created.",
                    "s",
                    *quantiles("videojob_job_creation_seconds"),
                ),
                series(
                    "Progress events",
                    "Progress lines read from renderer logs, per second.",
                    "ops",
                    (f"sum(rate(videojob_progress_events_total{{{OP}}}[{RATE}]))", "events"),
                ),
            ],
            [
                series(
                    "Memory",
                    "Resident memory of the operator process.",
                    "bytes",
                    (f"max(process_resident_memory_bytes{{{OP}}})", "resident"),
                ),
                series(
                    "CPU",
                    "CPU used by the operator process, in cores.",
                    "short",
                    (f"sum(rate(process_cpu_seconds_total{{{OP}}}[{RATE}]))", "cores"),
                ),
                series(
                    "Kubernetes API requests",
                    "Requests the operator sent to the API server per second, by verb and resource "
                    "(watches and log streams aside): what the operator costs the control plane.",
                    "reqps",
                    (
                        f"sum by (verb, resource) (rate(videojob_operator_api_requests_total{{{OP}}}[{RATE}]))",
                        "{{verb}} {{resource}}",
                    ),
                ),
            ],
        ],
    )


DASHBOARDS = {"overview": overview, "renders": renders, "gateway": gateway, "operator": operator}


def render_json(board: Dashboard) -> dict[str, Any]:
    return board.model_dump(mode="json", exclude_none=True)
