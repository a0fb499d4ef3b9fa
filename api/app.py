"""``create_app()`` assembles the gateway: routers, error handlers, metrics, the web page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles

from .errors import install_error_handlers
from .logs import AccessLog
from .metrics import GatewayMetrics, RequestMetrics
from .routers import content, health, videos, web


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
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=web.STATIC_DIR), name="static")

    app.add_middleware(RequestMetrics, metrics=app.state.metrics)
    app.add_middleware(AccessLog)  # outermost: its duration includes the metrics' own time
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schema.setdefault("components", {}).setdefault("schemas", {}).update(videos.openapi_schemas())
        app.openapi_schema = schema
    return app.openapi_schema
