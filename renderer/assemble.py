"""Put the video together with ffmpeg: silent scenes joined, one narration track over the whole.

Joining scenes that each carry their own audio leaves tiny gaps at every join (AAC
priming); joining silent scenes by stream copy and muxing a single, sample-exact
narration track afterwards does not.

The track is encoded by an ffmpeg of its own that reads it from a pipe, scene by scene
(:class:`NarrationTrack`), and the mux only copies both streams. Encoding the track is most
of the join's CPU (1.8 of 2.5 CPU-s for two minutes of video), so the assembling Pod of a
fan-out feeds it while the scenes are still drawn (``renderer/join_ahead.py``); a single-Pod
render feeds it at the end. Both give the same bytes: :func:`assemble_video` checks every
piece fed early against the finished scenes and encodes again from the start on any
difference.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import queue
import shutil
import subprocess
import tempfile
import threading
import wave
from dataclasses import dataclass
from pathlib import Path

from videojob.renderer.errors import RenderError
from videojob.renderer.narration import SAMPLE_RATE
from videojob.renderer.stages import FinishedScene
from videojob.renderer.subtitles import SpokenScene, build_cues, to_srt, to_webvtt
from videojob.renderer.timing import LEAD_IN

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AssembledVideo:
    """The finished video, its subtitles and thumbnail, how long it lasts and who spoke each scene."""

    video: Path
    vtt: Path
    srt: Path
    thumbnail: Path
    duration_seconds: float
    voices: tuple[str, ...]

    @property
    def files(self) -> dict[str, Path]:
        return {"video": self.video, "vtt": self.vtt, "srt": self.srt, "thumbnail": self.thumbnail}


def _ffmpeg(*arguments: str) -> None:
    run = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *arguments], capture_output=True, timeout=600)
    if run.returncode != 0:
        raise RenderError(f"ffmpeg failed: {run.stderr.decode(errors='replace').strip()[-400:]}")


def join_and_mux(scenes: list[Path], narration: Path, target: Path) -> None:
    """The scene videos joined by stream copy (one encoder configuration, so no re-encode), with the
    encoded narration (:class:`NarrationTrack`) copied over the whole, moov atom first so browsers
    start playing at once."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", dir=target.parent, delete=False) as listing:
        for scene in scenes:
            listing.write(f"file '{scene.resolve().as_posix()}'\n")
    try:
        _ffmpeg(
            "-f",
            "concat",
            "-safe",
            "0",
            "-i",
            listing.name,
            "-i",
            str(narration),
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-c",
            "copy",
            "-movflags",
            "+faststart",
            str(target),
        )
    finally:
        Path(listing.name).unlink(missing_ok=True)


def track_piece(speech: Path | None, frames: int, fps: int) -> bytes:
    """One scene's stretch of the narration track (16-bit mono PCM): ``LEAD_IN`` of quiet, its speech,
    then quiet, padded (or cut) to exactly its ``frames`` so the track lines up with the video."""
    total = frames * (SAMPLE_RATE // fps) * 2
    audio = b"\0\0" * round(LEAD_IN * SAMPLE_RATE)
    if speech is not None:
        with wave.open(str(speech), "rb") as clip:
            audio += clip.readframes(clip.getnframes())
    return audio[:total].ljust(total, b"\0")


class NarrationTrack:
    """The narration track encoded to AAC (``narration.m4a``) as its pieces arrive, in order.

    ffmpeg reads the pieces from a pipe, fed by a thread of this process, so a caller that
    appends never waits for the encoder. Each piece's digest is kept, so that the pieces fed
    early can be checked against the finished scenes (:meth:`fed_with`)."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "narration.m4a"
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 (open as long as the encoder runs)
        self._process = subprocess.Popen(
            ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "s16le", "-ar", str(SAMPLE_RATE), "-ac", "1",
             "-i", "pipe:0", "-c:a", "aac", "-b:a", "128k", "-f", "mp4", str(self.path)],
            stdin=subprocess.PIPE, stderr=self._errors,
        )  # fmt: skip
        self._pieces: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._digests: list[str] = []
        self._broken: OSError | None = None
        self._feeder = threading.Thread(target=self._feed, name="narration-track", daemon=True)
        self._feeder.start()

    @property
    def pieces(self) -> int:
        return len(self._digests)

    def append(self, piece: bytes) -> None:
        """The next piece (see :func:`track_piece`)."""
        self._digests.append(hashlib.sha256(piece).hexdigest())
        self._pieces.put(piece)

    def fed_with(self, position: int, piece: bytes) -> bool:
        """Whether the piece fed at ``position`` was exactly ``piece``."""
        return self._digests[position] == hashlib.sha256(piece).hexdigest()

    def _feed(self) -> None:
        pipe = self._process.stdin
        assert pipe is not None
        try:
            while (piece := self._pieces.get()) is not None:
                pipe.write(piece)
            pipe.flush()
        except OSError as error:  # ffmpeg ended early (or was stopped): finish() says why
            self._broken = error
        finally:
            with contextlib.suppress(OSError):
                pipe.close()

    def finish(self) -> Path:
        """Every piece encoded: the track's path."""
        self._pieces.put(None)
        self._feeder.join()
        code = self._process.wait(timeout=600)
        if code != 0 or self._broken is not None:
            self._errors.seek(0)
            why = self._errors.read().decode(errors="replace").strip()[-400:] or str(self._broken)
            raise RenderError(f"ffmpeg failed encoding the narration: {why}")
        self._errors.close()
        return self.path

    def discard(self) -> None:
        """Stop the encoder and forget what it made (a render that failed, or pieces that changed)."""
        if self._process.poll() is None:
            self._process.kill()
        self._pieces.put(None)
        self._feeder.join()
        self._process.wait()
        self._errors.close()
        self.path.unlink(missing_ok=True)


def assemble_video(
    scenes: list[FinishedScene], fps: int, folder: Path, track: NarrationTrack | None = None
) -> AssembledVideo:
    """video.mp4, its subtitles and thumbnail in ``folder``, from the finished scenes in order;
    ``track``: the narration already fed with the first of them (see the module docstring)."""
    folder.mkdir(parents=True, exist_ok=True)
    pieces = [track_piece(scene.speech.path, scene.frames, fps) for scene in scenes]
    if track is not None and not all(track.fed_with(n, piece) for n, piece in enumerate(pieces[: track.pieces])):
        log.warning("a scene came out other than its speech announced: the narration is encoded again, whole")
        track.discard()
        track = None
    if track is not None:
        log.info("narration: %d of %d scenes were fed to the encoder while they were drawn", track.pieces, len(scenes))
    track = track or NarrationTrack(folder)
    try:
        for piece in pieces[track.pieces :]:
            track.append(piece)
        narration = track.finish()
    except BaseException:
        track.discard()
        raise
    spoken, offset = [], 0.0
    for scene in scenes:
        spoken.append(SpokenScene(scene.narration, offset + LEAD_IN, scene.speech.seconds))
        offset += scene.frames / fps
    assembled = AssembledVideo(
        folder / "video.mp4",
        folder / "video.vtt",
        folder / "video.srt",
        folder / "thumbnail.png",
        offset,
        tuple(scene.speech.voice for scene in scenes),
    )
    join_and_mux([scene.video for scene in scenes], narration, assembled.video)
    cues = build_cues(spoken)
    assembled.vtt.write_text(to_webvtt(cues))
    assembled.srt.write_text(to_srt(cues))
    shutil.copyfile(scenes[0].last_frame, assembled.thumbnail)  # the title card, fully drawn
    narration.unlink()
    return assembled
