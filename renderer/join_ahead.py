"""Joining ahead: the assembling Pod of a fan-out encodes the narration while the scenes are still drawn.

Encoding the narration track is most of the join's CPU (:mod:`~videojob.renderer.assemble`),
and it needs each scene's speech and length, not its picture. A scene lasts whole frames
around its speech (:func:`~videojob.renderer.timing.plan_scene`), and a speech exists long
before its scene is drawn (a Pod speaks first, then draws). So:

- every other share announces each speech in the scene cache as soon as it is spoken
  (:func:`announce_speeches`: ``spoken/<scene key>/`` beside ``scenes/``, the clip and a
  manifest with its voice and length, the manifest last);
- the assembling Pod feeds the track from a thread, in storyboard order
  (:class:`TrackFeeder`), each scene from whichever it finds first: the scene itself in the
  cache (its real length), its own narrator's clip or another share's announcement (the
  planned length). By the time the last scene lands only the rest of the track is left to
  encode, and the mux copies both streams.

A guess that turns out wrong costs time, never a different video: ``assemble_video`` checks
every piece fed early against the finished scenes and encodes the track again from the start
on any difference. An announcement that cannot be stored only leaves its scene to be fed
once it is drawn.
"""

from __future__ import annotations

import json
import logging
import threading
import wave
from collections.abc import Sequence
from pathlib import Path

from videojob.renderer.assemble import NarrationTrack, track_piece
from videojob.renderer.cache import CACHE_VERSION, MANIFEST, SCENE_FILES, SceneCache
from videojob.renderer.errors import UploadError
from videojob.renderer.narration import Narrator, Speech
from videojob.renderer.timing import plan_scene
from videojob.storyboard import Storyboard

log = logging.getLogger(__name__)

SPOKEN = "spoken"  # beside the cache's "scenes" and "videos"
# How often the feeder looks for the next scene's speech: soon at first, then less often.
FIRST_LOOK_SECONDS = 0.2
LONGEST_LOOK_SECONDS = 0.5


def _spoken_prefix(cache: SceneCache) -> str:
    return f"{cache.prefix.removesuffix('scenes')}{SPOKEN}"


def _by_narration(storyboard: Storyboard, positions: Sequence[int]) -> dict[str, list[int]]:
    heard: dict[str, list[int]] = {}
    for position in positions:
        heard.setdefault(storyboard.scenes[position].narration, []).append(position)
    return heard


def planned_frames(speech: Speech, fps: int) -> int:
    """How many frames a scene around ``speech`` lasts when drawn (the video is the authority; this is the plan)."""
    return round(plan_scene(speech.seconds, fps).duration * fps)


def announce_speeches(
    narrator: Narrator, cache: SceneCache, storyboard: Storyboard, keys: Sequence[str], positions: Sequence[int]
) -> None:
    """From now on, every clip ``narrator`` speaks for a scene at ``positions`` is stored at once for the
    assembling Pod (see the module docstring)."""
    store, prefix = cache.store, _spoken_prefix(cache)
    heard = _by_narration(storyboard, positions)
    if store is None:
        return

    def spoken(text: str, speech: Speech) -> None:
        for position in heard.get(text, []):
            folder = f"{prefix}/{keys[position]}"
            manifest = {"version": CACHE_VERSION, "voice": speech.voice, "speechSamples": speech.samples}
            try:
                store.upload(speech.path, f"{folder}/{SCENE_FILES['speech']}")
                store.put_bytes(f"{folder}/{MANIFEST}", json.dumps(manifest).encode(), "application/json")
            except UploadError as error:  # the assembling Pod feeds this scene once it is drawn instead
                log.warning("could not hand over the speech of scene %d early: %s", position + 1, error)

    narrator.on_spoken = spoken


class TrackFeeder:
    """Feeds ``track`` every scene's piece in storyboard order from a thread (see the module docstring).

    ``own``: the positions this Pod draws (their clips come from ``narrator``, told through
    :attr:`Narrator.on_spoken`); ``cache``: a cache of its own, opened best-effort (a lookup that
    fails is a scene not there yet: feeding ahead is only a head start)."""

    def __init__(
        self,
        storyboard: Storyboard,
        keys: Sequence[str],
        own: Sequence[int],
        fps: int,
        cache: SceneCache,
        narrator: Narrator,
        track: NarrationTrack,
        work: Path,
    ):
        self._storyboard, self._keys, self._own, self._fps = storyboard, keys, set(own), fps
        self._cache, self._track, self._work = cache, track, work
        self._heard = _by_narration(storyboard, own)
        self._clips: dict[int, Speech] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        narrator.on_spoken = self._spoken
        self._thread = threading.Thread(target=self._run, name="track-feeder", daemon=True)

    def __enter__(self) -> TrackFeeder:
        self._work.mkdir(parents=True, exist_ok=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _spoken(self, text: str, speech: Speech) -> None:
        with self._lock:
            for position in self._heard.get(text, []):
                self._clips[position] = speech

    def _run(self) -> None:
        for position in range(len(self._keys)):
            pause = FIRST_LOOK_SECONDS
            while (piece := self._look(position)) is None:
                if self._stop.wait(pause):
                    return
                pause = min(pause * 2, LONGEST_LOOK_SECONDS)
            self._track.append(piece)
            if self._stop.is_set():
                return

    def _look(self, position: int) -> bytes | None:
        try:
            return self._piece(position)
        except (UploadError, OSError, EOFError, wave.Error) as error:  # looked at again after a pause
            log.warning("feeding the narration ahead: scene %d: %s", position + 1, error)
            return None

    def _piece(self, position: int) -> bytes | None:
        key, fps = self._keys[position], self._fps
        with self._lock:
            clip = self._clips.get(position)
        if clip is not None:
            return track_piece(clip.path, planned_frames(clip, fps), fps)
        entry = self._cache.scene(key)
        target = self._work / f"speech-{position:03d}.wav"
        if entry is not None:
            self._cache.store.download(f"{self._cache.prefix}/{key}/{entry.files['speech']}", target)  # type: ignore[union-attr]
            return track_piece(target, entry.frames, fps)
        if position in self._own:
            return None  # told by this Pod's narrator once it is spoken
        return self._announced(key, target)

    def _announced(self, key: str, target: Path) -> bytes | None:
        store, folder = self._cache.store, f"{_spoken_prefix(self._cache)}/{key}"
        assert store is not None, "a fan-out runs with the scene cache on"
        data = store.get_bytes(f"{folder}/{MANIFEST}")
        if data is None:
            return None
        announced = json.loads(data)
        if announced.get("version") != CACHE_VERSION:
            return None
        store.download(f"{folder}/{SCENE_FILES['speech']}", target)
        speech = Speech(target, int(announced["speechSamples"]), str(announced["voice"]))
        return track_piece(target, planned_frames(speech, self._fps), self._fps)
