"""A content-addressed scene cache: identical scenes are rendered once, ever.

The key hashes everything that changes a scene's pixels or sound: the visual, the
narration, the theme, the quality, the voice chain and the renderer version. A
scene is stored as soon as it is rendered, so a job that dies half-way resumes
with every finished scene, and an identical re-run renders nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from videojob.renderer.storage import BlobStore

# Bump when a template, timing rule or encoder setting changes what a scene looks like.
RENDERER_VERSION = "3"
SCENE_FILES = ("scene.mp4", "speech.wav", "frames.txt", "last_frame.png")
VIDEO_FILES = ("video.mp4", "video.vtt", "video.srt", "thumbnail.png", "duration.txt")


def scene_key(visual: dict[str, Any], narration: str, theme: str, quality: str, voice: str) -> str:
    """The cache key of one scene: sha256 of its canonical JSON description."""
    description = {
        "renderer": RENDERER_VERSION,
        "visual": visual,
        "narration": narration,
        "theme": theme,
        "quality": quality,
        "voice": voice,
    }
    canonical = json.dumps(description, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def video_key(scene_keys: list[str], quality: str) -> str:
    """The cache key of an assembled video: its scenes, in order."""
    canonical = json.dumps({"renderer": RENDERER_VERSION, "scenes": scene_keys, "quality": quality})
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class SceneCache:
    """Scene videos and their speech, stored under ``<prefix>/<key>/`` in a blob store."""

    store: BlobStore | None
    prefix: str = "cache/scenes"

    videos_prefix: str = "cache/videos"

    def fetch(self, key: str, into: Path) -> bool:
        """Copy a cached scene into ``into``; False when it is not (completely) cached."""
        return self._fetch(f"{self.prefix}/{key}", SCENE_FILES, into)

    def put(self, key: str, folder: Path) -> None:
        """Store a finished scene as soon as it exists, so a crashed job can resume from it."""
        self._put(f"{self.prefix}/{key}", SCENE_FILES, folder)

    def fetch_video(self, key: str, into: Path) -> bool:
        """The assembled video of identical scenes, so a fully cached re-run runs no ffmpeg at all."""
        return self._fetch(f"{self.videos_prefix}/{key}", VIDEO_FILES, into)

    def put_video(self, key: str, folder: Path) -> None:
        self._put(f"{self.videos_prefix}/{key}", VIDEO_FILES, folder)

    def _fetch(self, prefix: str, names: tuple[str, ...], into: Path) -> bool:
        if self.store is None or not self.store.exists(f"{prefix}/complete"):
            return False
        into.mkdir(parents=True, exist_ok=True)
        for name in names:
            self.store.download(f"{prefix}/{name}", into / name)
        return True

    def _put(self, prefix: str, names: tuple[str, ...], folder: Path) -> None:
        # The marker goes last, so a half-written entry is never used.
        if self.store is None:
            return
        for name in names:
            self.store.upload(folder / name, f"{prefix}/{name}")
        self.store.put_bytes(f"{prefix}/complete", b"1", "text/plain")
