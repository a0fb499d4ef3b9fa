"""Every error the gateway answers has one shape: ``{"error": {"code", "message", "param"}}``.

``param`` names the request field at fault (``markdown``, ``size``, ``limit``...) or is
null; ``code`` is a stable snake_case word a program can branch on; ``message`` says
what to do. The OpenAI client reads the same shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match


class GatewayError(Exception):
    def __init__(
        self, status: int, code: str, message: str, param: str | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.param = status, code, message, param
        self.headers = dict(headers or {})


class ErrorBody(BaseModel):
    code: str
    message: str
    param: str | None = None


class ErrorResponse(BaseModel):
    """The body of every 4xx and 5xx answer."""

    error: ErrorBody


def error_response(
    status: int, code: str, message: str, param: str | None = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "param": param}}
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def param_name(location: Sequence[Any]) -> str | None:
    """``("body", "voice", "name")`` -> ``voice.name``; the transport part (body, query...) dropped."""
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or None


def first_problem(errors: Sequence[Mapping[str, Any]]) -> tuple[str | None, str]:
    """The first validation problem as (param, message naming it)."""
    problems = []
    first_param: str | None = None
    for item in errors:
        param = param_name(item.get("loc") or ())
        first_param = first_param or param
        message = str(item.get("msg", "is invalid")).removeprefix("Value error, ")
        problems.append(f"{param}: {message}" if param else message)
    return first_param, "; ".join(problems) or "the request is invalid"


STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
}


def install_error_handlers(app: FastAPI) -> None:
    async def gateway_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, GatewayError)
        return error_response(error.status, error.code, error.message, error.param, error.headers)

    async def validation_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        param, message = first_problem(error.errors())
        return error_response(422, "invalid_request", message, param)

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        code = STATUS_CODES.get(error.status_code, "error")
        headers = dict(error.headers or {})
        if error.status_code == 405:  # Starlette names only the first matching route's methods
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return error_response(error.status_code, code, str(error.detail), None, headers)

    app.add_exception_handler(GatewayError, gateway_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)


def _allowed_methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for these error statuses, all with :class:`ErrorResponse`."""
    return {
        status: {"model": ErrorResponse, "description": STATUS_CODES.get(status, "error").replace("_", " ")}
        for status in statuses
    }
