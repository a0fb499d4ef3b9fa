"""The gateway's Prometheus metrics, in a registry of its own (tests build many apps)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass
class GatewayMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "videojob_gateway_requests_total",
            "HTTP requests by route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "videojob_gateway_request_seconds",
            "Time to the response's first byte, by route.",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.event_streams = Gauge(
            "videojob_gateway_event_streams", "Server-sent event streams open now.", registry=self.registry
        )
        self.rate_limited = Counter(
            "videojob_gateway_rate_limited_total",
            "Creations refused by the rate limit.",
            ["tenant"],
            registry=self.registry,
        )
        self.quota_refused = Counter(
            "videojob_gateway_quota_refused_total",
            "Creations refused by a quota (kind: in_progress or daily).",
            ["tenant", "kind"],
            registry=self.registry,
        )
        self.videos_created = Counter(
            "videojob_gateway_videos_created_total",
            "VideoJobs the gateway created.",
            ["tenant"],
            registry=self.registry,
        )
