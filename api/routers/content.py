"""A video's files (presigned redirects) and its live event stream."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

from ..dependencies import KubeDep, MetricsDep, StorageDep, TenantDep
from ..errors import GatewayError, documented
from ..events import video_events
from ..mapping import RequestedVariant, Variant, content_key, file_variant, video_object
from .videos import read_videojob

router = APIRouter(prefix="/v1/videos", tags=["videos"], responses=documented(401, 404, 422, 503))

_FILE_NAMES: dict[Variant, str] = {
    "video": "video.mp4",
    "thumbnail": "thumbnail.png",
    "contact_sheet": "contact-sheet.png",
    "vtt": "video.vtt",
    "srt": "video.srt",
}


@router.get(
    "/{video_id}/content",
    status_code=302,
    response_class=RedirectResponse,
    responses={
        302: {"description": "Redirect to a short-lived presigned URL of the file."},
        200: {
            "description": "With redirect=false: the presigned URL as JSON.",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **documented(409, 422),
    },
)
async def download_content(
    video_id: str,
    tenant: TenantDep,
    kube: KubeDep,
    storage: StorageDep,
    requested: Annotated[
        RequestedVariant,
        Query(
            alias="variant",
            description="video (MP4), thumbnail (PNG, the title card), contact_sheet (PNG: every scene's "
            "finished picture on one sheet; spritesheet, OpenAI's name, is the same file), vtt or srt "
            "(subtitles). The video's `content` lists those it has.",
        ),
    ] = "video",
    redirect: Annotated[bool, Query()] = True,
) -> Response:
    """A redirect to the file on S3 (valid ``presign_seconds``); 409 until the video is completed.

    ``redirect=false`` answers the URL as JSON instead (``{"url", "expires_at"}``), for a
    browser page whose ``<video>`` cannot send the API key.
    """
    variant = file_variant(requested)
    videojob = await read_videojob(kube, tenant, video_id)
    video = video_object(videojob)
    if video["status"] != "completed":
        raise GatewayError(
            409,
            "video_not_ready",
            f"video {video_id} is {video['status']} ({video['progress']}%, "
            f"{video['stage']}); its files exist once it is completed",
            "video_id",
        )
    output = (videojob.get("status") or {}).get("output") or {}
    key = content_key(output, variant)
    if not key or not output.get("bucket"):
        why = " (it was rendered before contact sheets were made: render it again for one)"
        raise GatewayError(
            404,
            "variant_not_found",
            f"video {video_id} has no {variant} file{why if variant == 'contact_sheet' else ''}",
            "variant",
        )
    url = storage.presigned_url(output["bucket"], key, download_name=f"{video_id}-{_FILE_NAMES[variant]}")
    if not redirect:
        return JSONResponse(
            {"url": url, "variant": variant, "expires_at": int(time.time()) + storage.settings.presign_seconds}
        )
    return RedirectResponse(url, status_code=302)


@router.get(
    "/{video_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Server-sent events: `event: video` with the video object at every "
            "change, `event: deleted`; ends after a terminal state.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def follow_events(
    video_id: str,
    tenant: TenantDep,
    kube: KubeDep,
    metrics: MetricsDep,
    last_event_id: Annotated[str | None, Header(max_length=32)] = None,
) -> StreamingResponse:
    """Every change of the video as it happens, from a Kubernetes watch; resume with ``Last-Event-ID``."""
    videojob = await read_videojob(kube, tenant, video_id)

    async def stream():
        metrics.event_streams.inc()
        try:
            async for chunk in video_events(kube, videojob, video_object, last_event_id):
                yield chunk
        finally:
            metrics.event_streams.dec()

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
