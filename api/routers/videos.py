"""``/v1/videos``: create, read, list, cancel and delete; every answer read from the API server."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from ..body import read_create_body
from ..dependencies import CacheDep, KubeDep, MetricsDep, RateLimiterDep, SettingsDep, TenantDep
from ..errors import GatewayError, documented, first_problem
from ..kube import ApiServerError, ApiServerUnavailable
from ..mapping import (
    CREATED_BY_LABEL,
    REQUEST_HASH_ANNOTATION,
    CreateVideo,
    build_spec,
    build_videojob,
    idempotent_video_name,
    is_terminal,
    new_video_name,
    request_hash,
    video_object,
)
from ..settings import GatewaySettings
from ..tenants import Tenant

router = APIRouter(prefix="/v1/videos", tags=["videos"], responses=documented(401, 422, 503))

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
MAX_PAGE = 100


class Video(BaseModel):
    """A video (OpenAI's ``Video`` and more); see :func:`videojob.api.mapping.video_object`."""

    model_config = {"extra": "allow"}
    id: str
    object: Literal["video"]
    status: Literal["queued", "in_progress", "completed", "failed"]
    progress: int
    stage: str
    phase: str
    created_at: int
    completed_at: int | None
    estimated_completion_at: int | None
    model: str
    seconds: str
    size: str
    error: dict[str, str] | None


class VideoList(BaseModel):
    object: Literal["list"]
    data: list[Video]
    first_id: str | None
    last_id: str | None
    has_more: bool


class Deleted(BaseModel):
    id: str
    object: Literal["video.deleted"]
    deleted: bool


def check_video_id(video_id: str) -> str:
    if not _NAME.match(video_id):
        raise GatewayError(404, "not_found", f"no video {video_id!r}", "video_id")
    return video_id


def translate(error: ApiServerError | ApiServerUnavailable, video_id: str | None = None) -> GatewayError:
    """The API server's answer in the gateway's words (one place for every route)."""
    if isinstance(error, ApiServerUnavailable):
        return GatewayError(
            503,
            "api_server_unavailable",
            "the Kubernetes API server is not answering; try again shortly",
            headers={"Retry-After": "5"},
        )
    if error.status == 404:
        return GatewayError(404, "not_found", f"no video {video_id!r}" if video_id else error.message, "video_id")
    if error.status == 403 and "exceeded quota" in error.message:
        return GatewayError(429, "quota_exceeded", quota_message(error.message), headers={"Retry-After": "30"})
    if error.status == 422:
        causes = error.details.get("causes") or [{}]
        field = str(causes[0].get("field") or "").removeprefix("spec.").removeprefix("source.") or None
        return GatewayError(422, "invalid_request", f"the API server refused the video: {error.message}", field)
    if error.status == 409:
        return GatewayError(409, "conflict", f"the video changed while this request ran; try again ({error.message})")
    return GatewayError(
        502, "api_server_error", f"the Kubernetes API server answered {error.status} {error.reason}: {error.message}"
    )


def quota_message(text: str) -> str:
    used = re.search(r"used: count/videojobs\.videojob\.dev=(\d+)", text)
    limited = re.search(r"limited: count/videojobs\.videojob\.dev=(\d+)", text)
    if used and limited:
        return (
            f"this tenant already has {used.group(1)} of its {limited.group(1)} videos (a ResourceQuota on "
            "count/videojobs.videojob.dev): wait for one to finish and delete it, then try again"
        )
    return f"a quota of this tenant refused the video: {text}"


def _base(request: Request, settings: GatewaySettings) -> str:
    return (settings.public_url or str(request.base_url)).rstrip("/")


def _llm(settings: GatewaySettings) -> dict[str, Any]:
    llm: dict[str, Any] = {"provider": "openai"}
    if settings.llm_model:
        llm["model"] = settings.llm_model
    if settings.llm_base_url:
        llm["baseURL"] = settings.llm_base_url
    if settings.llm_secret_name:
        llm["apiKey"] = {"secretKeyRef": {"name": settings.llm_secret_name, "key": settings.llm_secret_key}}
    return llm


async def _check_daily_cap(kube: KubeDep, tenant: Tenant, settings: GatewaySettings, metrics: MetricsDep) -> None:
    if not settings.daily_cap:
        return
    since = datetime.now(UTC) - timedelta(days=1)
    listed = await kube.list_videojob_metadata(tenant.namespace, f"{CREATED_BY_LABEL}=gateway")
    recent = sorted(
        item["metadata"]["creationTimestamp"]
        for item in listed
        if datetime.fromisoformat(item["metadata"]["creationTimestamp"].replace("Z", "+00:00")) > since
    )
    if len(recent) >= settings.daily_cap:
        metrics.quota_refused.labels(tenant.name, "daily").inc()
        oldest = datetime.fromisoformat(recent[0].replace("Z", "+00:00"))
        wait = max(1, int((oldest + timedelta(days=1) - datetime.now(UTC)).total_seconds()))
        raise GatewayError(
            429,
            "daily_cap_exceeded",
            f"this tenant created {len(recent)} videos in the last 24 hours, "
            f"its daily cap: the next one is possible in {wait // 3600} h {wait % 3600 // 60} min",
            headers={"Retry-After": str(wait)},
        )


CREATE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/CreateVideo"}},
            "multipart/form-data": {"schema": {"$ref": "#/components/schemas/CreateVideo"}},
        },
    }
}


@router.post(
    "",
    status_code=202,
    response_model=Video,
    openapi_extra=CREATE_BODY,
    responses=documented(400, 409, 413, 415, 422, 429, 502),
)
async def create_video(
    request: Request,
    tenant: TenantDep,
    kube: KubeDep,
    settings: SettingsDep,
    limiter: RateLimiterDep,
    metrics: MetricsDep,
    cache: CacheDep,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> JSONResponse:
    """Start a video: exactly one of ``prompt``, ``markdown``, ``storyboard``. 202 with the video and a Location.

    The same ``Idempotency-Key`` with the same body answers the same video (no second render);
    with another body, 409.
    """
    raw = await read_create_body(request, settings.max_body_bytes)
    try:
        body = CreateVideo.model_validate(raw)
    except ValidationError as error:
        param, message = first_problem(error.errors())
        raise GatewayError(422, "invalid_request", message, param) from None
    spec = await run_in_threadpool(build_spec, body, _llm(settings))  # parses a lecture: up to ~0.6 s if hostile
    decision = limiter.take(tenant.name)
    if not decision.allowed:
        metrics.rate_limited.labels(tenant.name).inc()
        raise GatewayError(
            429,
            "rate_limited",
            f"too many new videos: this tenant may start {settings.rate_burst} at once "
            f"and {settings.rate_per_minute:g} a minute; retry in {decision.retry_after_seconds} s",
            headers=decision.headers(),
        )
    name = idempotent_video_name(tenant.namespace, idempotency_key) if idempotency_key else new_video_name()
    manifest = build_videojob(name, tenant.namespace, spec, body, idempotency_key)
    replayed = False
    try:
        await _check_daily_cap(kube, tenant, settings, metrics)
        try:
            created = await kube.create_videojob(tenant.namespace, manifest)
            metrics.videos_created.labels(tenant.name).inc()
        except ApiServerError as error:
            if error.status != 409 or not idempotency_key:
                raise
            created = await kube.get_videojob(tenant.namespace, name)
            if (created["metadata"].get("annotations") or {}).get(REQUEST_HASH_ANNOTATION) != request_hash(body):
                raise GatewayError(
                    409,
                    "idempotency_key_reused",
                    "this Idempotency-Key was already used with "
                    f"another body (video {name}); use a new key for a new video",
                    "Idempotency-Key",
                ) from None
            replayed = True
    except (ApiServerError, ApiServerUnavailable) as error:
        translated = translate(error)
        if translated.code == "quota_exceeded":
            metrics.quota_refused.labels(tenant.name, "in_progress").inc()
        raise translated from None
    if cache is not None:
        cache.wrote(created)
    base = _base(request, settings)
    headers = decision.headers() | {"Location": f"{base}/v1/videos/{name}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(video_object(created), status_code=202, headers=headers)


@router.get("", response_model=VideoList, responses=documented(422, 502))
async def list_videos(
    tenant: TenantDep,
    kube: KubeDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
    after: Annotated[str | None, Query(max_length=4096)] = None,
    order: Annotated[Literal["desc"] | None, Query()] = None,
) -> dict[str, Any]:
    """This tenant's videos, newest first (the API server's name order; the gateway's ids count down in time).

    ``after`` is the opaque cursor from the previous page's ``last_id`` (the API server's
    continue token, which the OpenAI client passes back unchanged).
    """
    try:
        listed = await kube.list_videojobs(tenant.namespace, limit=limit, cont=after)
    except ApiServerError as error:
        if error.status in (400, 410, 422) and after:
            raise GatewayError(
                422, "invalid_cursor", "this cursor is unknown or expired: list again without after", "after"
            ) from None
        raise translate(error) from None
    except ApiServerUnavailable as error:
        raise translate(error) from None
    data = [video_object(item) for item in listed.get("items", [])]
    cont = (listed.get("metadata") or {}).get("continue") or None
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": cont or (data[-1]["id"] if data else None),
        "has_more": bool(cont),
    }


async def read_videojob(kube: KubeDep, tenant: Tenant, video_id: str) -> dict[str, Any]:
    try:
        return await kube.get_videojob(tenant.namespace, check_video_id(video_id))
    except (ApiServerError, ApiServerUnavailable) as error:
        raise translate(error, video_id) from None


@router.get("/{video_id}", response_model=Video, responses=documented(404, 502))
async def retrieve_video(video_id: str, tenant: TenantDep, kube: KubeDep, cache: CacheDep) -> JSONResponse:
    """The video now; from the gateway's watched copy when it has one (api/cache.py)."""
    if cache is None:
        videojob = await read_videojob(kube, tenant, video_id)
    else:
        try:
            videojob = await cache.get(tenant.namespace, check_video_id(video_id))
        except (ApiServerError, ApiServerUnavailable) as error:
            raise translate(error, video_id) from None
    # OpenAI's poll helper waits this long between reads.
    headers = {} if is_terminal(videojob) else {"openai-poll-after-ms": "1000"}
    return JSONResponse(video_object(videojob), headers=headers)


@router.delete("/{video_id}", response_model=Deleted, responses=documented(404, 502))
async def delete_video(video_id: str, tenant: TenantDep, kube: KubeDep, cache: CacheDep) -> dict[str, Any]:
    """Stop the render if it runs and remove the VideoJob; its files follow its retention."""
    try:
        await kube.delete_videojob(tenant.namespace, check_video_id(video_id))
    except (ApiServerError, ApiServerUnavailable) as error:
        raise translate(error, video_id) from None
    if cache is not None:  # a finalizer may keep it a moment: the next read asks the API server
        cache.deleted(tenant.namespace, video_id)
    return {"id": video_id, "object": "video.deleted", "deleted": True}


@router.post("/{video_id}/cancel", response_model=Video, responses=documented(404, 409, 502))
async def cancel_video(video_id: str, tenant: TenantDep, kube: KubeDep, cache: CacheDep) -> dict[str, Any]:
    """Suspend the render (``spec.suspend``); the video then reads as failed with error code ``cancelled``."""
    videojob = await read_videojob(kube, tenant, video_id)
    if is_terminal(videojob):
        state = video_object(videojob)["status"]
        raise GatewayError(409, "already_finished", f"video {video_id} is already {state}; nothing to cancel")
    try:
        patched = await kube.patch_videojob(tenant.namespace, video_id, {"spec": {"suspend": True}})
    except (ApiServerError, ApiServerUnavailable) as error:
        raise translate(error, video_id) from None
    if cache is not None:
        cache.wrote(patched)
    return video_object(patched)


def openapi_schemas() -> dict[str, Any]:
    """The request body's schema for the OpenAPI document (the route reads the body itself)."""
    schema = CreateVideo.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs", {})
    return {"CreateVideo": schema, **definitions}
