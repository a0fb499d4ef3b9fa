"""``create_app()`` assembles the gateway: routers, error handlers, metrics, the web page."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import install_error_handlers
from .metrics import GatewayMetrics
from .routers import content, health, videos

STATIC_DIR = Path(__file__).parent / "static"


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


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    cache: Any = getattr(app.state, "cache", None)
    if cache is not None:
        await cache.close()
    kube: Any = getattr(app.state, "kube", None)
    if kube is not None:
        await kube.close()


def create_app() -> FastAPI:
    app = FastAPI(
        title="videojob gateway",
        version="0.1.0",
        lifespan=lifespan,
        description="Narrated explainer videos from a topic, a Markdown lecture or a storyboard. "
        "Compatible with OpenAI's Videos API; every video is a VideoJob.",
    )
    app.state.metrics = GatewayMetrics()
    install_error_handlers(app)
    app.include_router(videos.router)
    app.include_router(content.router)
    app.include_router(health.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    app.add_middleware(RequestMetrics, metrics=app.state.metrics)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schema.setdefault("components", {}).setdefault("schemas", {}).update(videos.openapi_schemas())
        app.openapi_schema = schema
    return app.openapi_schema
