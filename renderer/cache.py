"""A content-addressed scene cache: identical scenes are rendered once, ever.

The key hashes everything that changes a scene's pixels or sound: the visual, the
narration, the theme, the quality, the voice chain and :data:`CACHE_VERSION`. A scene
is stored as soon as it is rendered, so a job that dies half-way resumes with every
finished scene, and an identical re-run renders nothing.

Each entry carries a small JSON manifest, written last (so a half-written entry is
never used): its files, frame count, speech length and the voice that actually spoke.
The key names the chain a render asked for; the manifest says which link of it
answered, so a scene spoken by a fallback voice can be told apart from one spoken by
the voice that was wanted (the pipeline decides what to do with that).

For one Pod the cache is an optimisation: when S3 is down past the store's retries, a
lookup (or a fetch) counts as a miss and a write is dropped with a warning, and the render goes on
(only its upload must reach S3). The Pods of a fanned-out render hand their scenes over
through the cache, so they open it ``best_effort=False``: there a failed write fails the Pod.

An entry may be removed at any time by the operator's retention sweep
(``operator/cache_expiry.py``), which judges an entry by its newest object. So using an entry
marks it used first (its manifest copied onto itself: a new LastModified), and an entry found
half-removed is a miss: a fetch that finds a file gone answers False and the scene is drawn again
(drawing it stores it whole again), never a failed render.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field

from videojob.renderer.errors import UploadError
from videojob.renderer.narration import SAMPLE_RATE
from videojob.renderer.storage import BlobStore, S3Access, open_store

log = logging.getLogger(__name__)

# Bump when a template, timing rule, encoder setting or the entry layout changes what is cached.
CACHE_VERSION = 6
MANIFEST = "manifest.json"


def scene_key(visual: dict[str, Any], narration: str, theme: str, quality: str, voices: str) -> str:
    """The cache key of one scene: sha256 of its canonical JSON description (``voices``: the chain asked for)."""
    description = {
        "renderer": CACHE_VERSION,
        "visual": visual,
        "narration": narration,
        "theme": theme,
        "quality": quality,
        "voice": voices,
    }
    canonical = json.dumps(description, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def video_key(scene_keys: list[str], quality: str) -> str:
    """The cache key of an assembled video: its scenes, in order."""
    canonical = json.dumps({"renderer": CACHE_VERSION, "scenes": scene_keys, "quality": quality})
    return hashlib.sha256(canonical.encode()).hexdigest()


class _Manifest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    version: int
    files: dict[str, str]  # role -> file name inside the entry


class SceneEntry(_Manifest):
    """What a cached scene is: its files (video, speech, last frame), its length and who spoke it."""

    voice: str
    frames: int = Field(gt=0)
    fps: int = Field(gt=0)
    speech_samples: int = Field(ge=0, alias="speechSamples")

    @computed_field(alias="durationSeconds")  # type: ignore[prop-decorator]
    @property
    def duration_seconds(self) -> float:
        return round(self.frames / self.fps, 6)

    @computed_field(alias="speechSeconds")  # type: ignore[prop-decorator]
    @property
    def speech_seconds(self) -> float:
        return round(self.speech_samples / SAMPLE_RATE, 6)


class VideoEntry(_Manifest):
    """What a cached assembled video is: its files, its length, and the voice of each scene."""

    duration_seconds: float = Field(ge=0, alias="durationSeconds")
    voices: list[str]


SCENE_FILES = {"video": "scene.mp4", "speech": "speech.wav", "last_frame": "last_frame.png"}
VIDEO_FILES = {"video": "video.mp4", "vtt": "video.vtt", "srt": "video.srt", "thumbnail": "thumbnail.png"}


@dataclass(frozen=True)
class SceneCache:
    """Scenes under ``<prefix>/<key>/`` and assembled videos under ``<videos_prefix>/<key>/`` in a blob store."""

    store: BlobStore | None
    prefix: str = "scenes"
    videos_prefix: str = "videos"
    best_effort: bool = True  # a store that keeps failing is a miss, and a dropped write; see the module docstring

    @classmethod
    def open(cls, location: str | None, s3: S3Access, *, best_effort: bool = True) -> SceneCache:
        """The cache at ``location`` (None: no cache)."""
        if location is None:
            return cls(None)
        store, prefix = open_store(location, s3)
        base = f"{prefix}/" if prefix else ""
        return cls(store, prefix=f"{base}scenes", videos_prefix=f"{base}videos", best_effort=best_effort)

    def scene(self, key: str) -> SceneEntry | None:
        """The manifest of a cached scene; None when it is not (completely, or in this version) cached."""
        return self._entry(f"{self.prefix}/{key}", SceneEntry)

    def video(self, key: str) -> VideoEntry | None:
        return self._entry(f"{self.videos_prefix}/{key}", VideoEntry)

    def fetch_scene(self, key: str, into: Path) -> bool:
        """The files of a cached scene (see :meth:`scene`) into ``into``, named as in :data:`SCENE_FILES`, the
        entry marked used; False when it is gone meanwhile (see the module docstring): draw it again."""
        return self._fetch(f"{self.prefix}/{key}", SCENE_FILES, into)

    def fetch_video(self, key: str, into: Path) -> bool:
        return self._fetch(f"{self.videos_prefix}/{key}", VIDEO_FILES, into)

    def scene_picture(self, key: str) -> bytes | None:
        """A cached scene's last frame, the scene marked used (a reused video keeps its scenes); None when gone."""
        if self.store is None:
            return None
        try:
            self.store.touch(f"{self.prefix}/{key}/{MANIFEST}")  # only the picture is needed: it may be alone
            return self.store.get_bytes(f"{self.prefix}/{key}/{SCENE_FILES['last_frame']}")
        except UploadError as error:
            if not self.best_effort:
                raise
            log.warning("scene cache: %s; the scene's picture is counted as not cached", error)
            return None

    def put_scene(self, key: str, files: dict[str, Path], entry: SceneEntry) -> None:
        """Store a finished scene as soon as it exists, so a crashed job can resume from it."""
        self._put(f"{self.prefix}/{key}", files, entry)

    def put_video(self, key: str, files: dict[str, Path], entry: VideoEntry) -> None:
        self._put(f"{self.videos_prefix}/{key}", files, entry)

    def _entry(self, prefix: str, model: type[Any]) -> Any:
        if self.store is None:
            return None
        try:
            data = self.store.get_bytes(f"{prefix}/{MANIFEST}")
        except UploadError as error:
            if not self.best_effort:
                raise
            log.warning("scene cache: %s; counted as not cached, so it is drawn again", error)
            return None
        if data is None:
            return None
        try:
            entry = model.model_validate_json(data)
        except ValidationError:
            return None  # written by another version of the renderer: not ours to use
        return entry if entry.version == CACHE_VERSION else None

    def _fetch(self, prefix: str, names: dict[str, str], into: Path) -> bool:
        store = self.store
        assert store is not None, "fetch only what scene() or video() found"
        into.mkdir(parents=True, exist_ok=True)
        try:
            # Marked used before it is read: a sweep listing from now on sees it as just used.
            if not store.touch(f"{prefix}/{MANIFEST}"):
                log.info("scene cache: %s was removed after it was looked up; drawn again", prefix)
                return False
            for name in names.values():
                store.download(f"{prefix}/{name}", into / name)
            return True
        except (UploadError, OSError) as error:
            problem: Exception = error
        try:
            complete = all(store.exists(f"{prefix}/{name}") for name in names.values())
        except UploadError as error:
            complete, problem = True, error
        if not complete:
            log.info("scene cache: %s is incomplete (removed while it was read); drawn again", prefix)
            return False
        if not self.best_effort:
            raise problem
        log.warning("scene cache: %s; counted as not cached, so it is drawn again", problem)
        return False

    def _put(self, prefix: str, files: dict[str, Path], entry: _Manifest) -> None:
        if self.store is None:
            return
        try:
            self._write(prefix, files, entry)
        except UploadError as error:
            if not self.best_effort:
                raise
            # No manifest was written, so no reader takes the half-stored entry; the render goes on.
            log.warning("scene cache: %s; the render goes on without storing %s", error, prefix)

    def _write(self, prefix: str, files: dict[str, Path], entry: _Manifest) -> None:
        assert self.store is not None
        for role, path in files.items():
            self.store.upload(path, f"{prefix}/{entry.files[role]}")
        # The manifest goes last: it is what makes the entry exist.
        self.store.put_bytes(
            f"{prefix}/{MANIFEST}", entry.model_dump_json(by_alias=True, indent=1).encode(), "application/json"
        )
