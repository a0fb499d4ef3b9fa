"""The gateway's log lines (the format is :mod:`videojob.logformat`) and its access log.

    VIDEOJOB_GATEWAY_LOG_FORMAT=json | text | auto   (auto: text on a terminal, else JSON)
    VIDEOJOB_GATEWAY_LOG_LEVEL=INFO                  (WARNING turns the access log off)

One access line per request (logger ``videojob.api.access``): method, route template,
path, status, duration and the tenant's namespace; never a header, so never an API key.
A line about one video (its access line, and anything logged while serving it) carries
the VideoJob's namespace, name and uid: the tenant and the path's ``video_id`` say which,
and the uid comes from the VideoJob the handler read (:func:`note_videojob`).

uvicorn's own loggers write through the same handler (it is started with ``log_config=None``);
its access log stays off: it knows neither the route nor the tenant.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from videojob import logformat

from .settings import ENV_PREFIX, GatewaySettings

access_log = logging.getLogger("videojob.api.access")

# What the request being served has learnt so far: a dict, so that what a handler notes in a
# copied context (a dependency run in a thread, a task) is seen by the middleware too.
_request: ContextVar[dict[str, Any] | None] = ContextVar("videojob_api_request", default=None)


def note_tenant(namespace: str) -> None:
    """The request is the tenant's (called once its API key is verified)."""
    request = _request.get()
    if request is not None:
        request["tenant"] = namespace


def note_videojob(videojob: Mapping[str, Any]) -> None:
    """The request read or wrote this VideoJob (its uid is what the path does not say)."""
    request = _request.get()
    if request is not None:
        found = logformat.identity_of(videojob)
        if found and found not in request["videojobs"]:
            request["videojobs"].append(found)


def _about(request: Mapping[str, Any]) -> logformat.Identity | None:
    """The one video a request is about: the path's, else the one a POST created; a list is about none."""
    scope: Scope = request["scope"]
    name = (scope.get("path_params") or {}).get("video_id")
    noted: list[logformat.Identity] = request["videojobs"]
    if isinstance(name, str) and request.get("tenant"):
        return next(
            (found for found in noted if found.get("name") == name),
            logformat.identity(request["tenant"], name, None),
        )
    if len(noted) == 1 and scope.get("method") == "POST":
        return noted[0]
    return None


def _request_identity(_record: logging.LogRecord) -> logformat.Identity | None:
    request = _request.get()
    return _about(request) if request is not None else None


def configure(settings: GatewaySettings) -> None:
    """Every logger (uvicorn's too) writes ``settings.log_format`` lines to stderr at ``settings.log_level``."""
    logformat.configure(settings.log_level, settings.log_format, prefix=ENV_PREFIX, lookup=_request_identity)


class AccessLog:
    """Logs each HTTP request when its response is complete (for an event stream: when it ends)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not access_log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request: dict[str, Any] = {"scope": scope, "tenant": None, "videojobs": []}
        token = _request.set(request)
        status = 500  # what the client gets when the app raises before answering

        async def observe(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            fields = {
                "method": scope["method"],
                "route": route,
                "path": scope["path"],
                "status": status,
                "duration_seconds": round(seconds, 6),
                "tenant": request["tenant"],
            }
            access_log.info(
                "%s %s %d %.1f ms",
                scope["method"],
                scope["path"],
                status,
                seconds * 1000,
                extra={"fields": fields, "videojob": _about(request)},
            )
            _request.reset(token)
