"""Per-tenant token buckets for video creation, answered with 429, ``Retry-After`` and ``RateLimit-*``.

The buckets live in the gateway's memory: with several gateway replicas each enforces
its own share (the total is replicas x the rate). The in-progress cap, which must hold
exactly, is a ResourceQuota that the API server enforces instead.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the bucket is full again
    retry_after_seconds: int  # until one more token (0 when allowed)

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after_seconds)
        return headers


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    per_minute: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def take(self, tenant: str) -> Decision:
        now = self.clock()
        rate = self.per_minute / 60.0
        bucket = self._buckets.setdefault(tenant, _Bucket(float(self.burst), now))
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        allowed = bucket.tokens >= 1.0
        if allowed:
            bucket.tokens -= 1.0
        retry = 0 if allowed else math.ceil((1.0 - bucket.tokens) / rate)
        reset = math.ceil((self.burst - bucket.tokens) / rate)
        return Decision(allowed, self.burst, int(bucket.tokens), reset, retry)
