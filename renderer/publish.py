"""Store the assembled video where the job's output goes, verified, with a manifest of its files."""

from __future__ import annotations

import json
from pathlib import Path

from videojob.contract import StoredOutput, Subtitles
from videojob.renderer.assemble import AssembledVideo
from videojob.renderer.config import RenderConfig
from videojob.renderer.storage import open_store


def publish(
    video: AssembledVideo, config: RenderConfig, cached: bool, contact_sheet: Path | None = None
) -> StoredOutput:
    """Upload every file under the job's prefix (each read back and hashed), the contact sheet
    (:mod:`~videojob.renderer.contact_sheet`) among them when there is one, then ``manifest.json``."""
    store, _ = open_store(config.output, config.s3)

    def key(name: str) -> str:
        return f"{config.output_prefix}/{name}" if config.output_prefix else name

    files = [*video.files.values(), *([contact_sheet] if contact_sheet is not None else [])]
    digests = {path.name: store.upload(path, key(path.name), verify=True) for path in files}
    duration = round(video.duration_seconds, 3)
    manifest = {
        "videojob": "manifest/v1",
        "durationSeconds": duration,
        "files": {
            path.name: {"key": key(path.name), "sha256": digests[path.name], "sizeBytes": path.stat().st_size}
            for path in files
        },
    }
    store.put_bytes(key("manifest.json"), json.dumps(manifest, indent=2).encode(), "application/json")
    return StoredOutput(
        bucket=store.bucket or "",
        key=key(video.video.name),
        url=store.url(key(video.video.name)),
        size_bytes=video.video.stat().st_size,
        sha256=digests[video.video.name],
        duration_seconds=duration,
        subtitles=Subtitles(vtt=key(video.vtt.name), srt=key(video.srt.name)),
        thumbnail=key(video.thumbnail.name),
        contact_sheet=key(contact_sheet.name) if contact_sheet is not None else None,
        manifest=key("manifest.json"),
        cached=cached,
    )
