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
RENDERER_VERSION = "1"
SCENE_FILES = ("scene.mp4", "speech.wav")


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


@dataclass
class SceneCache:
    """Scene videos and their speech, stored under ``<prefix>/<key>/`` in a blob store."""

    store: BlobStore | None
    prefix: str = "cache/scenes"

    def fetch(self, key: str, into: Path) -> bool:
        """Copy a cached scene into ``into``; False when it is not (completely) cached."""
        if self.store is None or not self.store.exists(f"{self.prefix}/{key}/complete"):
            return False
        into.mkdir(parents=True, exist_ok=True)
        for name in SCENE_FILES:
            self.store.download(f"{self.prefix}/{key}/{name}", into / name)
        return True

    def put(self, key: str, folder: Path) -> None:
        """Store a finished scene; the marker goes last, so a half-written entry is never used."""
        if self.store is None:
            return
        for name in SCENE_FILES:
            self.store.upload(folder / name, f"{self.prefix}/{key}/{name}")
        self.store.put_bytes(f"{self.prefix}/{key}/complete", b"1", "text/plain")
