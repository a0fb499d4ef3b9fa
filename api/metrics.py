"""The gateway's Prometheus metrics, in a registry of its own (tests build many apps)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


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


class RequestMetrics:
    """Counts requests by route template and status and times them to the first byte."""

    def __init__(self, app: ASGIApp, metrics: GatewayMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def observe(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                route = getattr(scope.get("route"), "path", None) or "unmatched"
                self.metrics.latency.labels(scope["method"], route).observe(time.perf_counter() - started)
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
