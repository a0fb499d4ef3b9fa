"""Liveness, readiness (the API server answers) and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ..dependencies import KubeDep, MetricsDep
from ..errors import GatewayError, documented

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", responses=documented(503))
async def readyz(kube: KubeDep) -> dict[str, str]:
    if not await kube.ready():
        raise GatewayError(503, "api_server_unavailable", "the Kubernetes API server is not ready")
    return {"status": "ready"}


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
async def metrics(registry: MetricsDep) -> Response:
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)
