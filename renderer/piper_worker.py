"""Piper in a process of its own: the model loaded once, each narration spoken while scenes are drawn.

Run in the renderer's process, onnxruntime and the code around it share one interpreter
(and its GIL) with Manim's import and with the stage that hands scenes to the workers;
under load the first narration took several times as long as on its own. Here the
voice runs in a child process (``python -m videojob.renderer.piper_worker``) started on
the first narration: it imports onnxruntime and loads the model once, then answers one
request per narration over its stdin and stdout, one JSON line each way:

    {"voice": "en_US-joe-medium", "text": "...", "target": "/scratch/raw.wav"}
    {"samples": 275968}        or        {"error": "espeak-ng failed: ..."}

It writes the WAV itself (at the voice's own rate); the narrator normalises it as it
does every engine's clip. Its threads: :data:`SYNTHESIS_THREADS`. It stops at an empty
line (the renderer sends one once every scene is spoken, and when it exits) or when its
stdin ends, so it never outlives the renderer.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ctypes
import json
import os
import subprocess
import sys
import threading
import wave
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from videojob.renderer.errors import NarrationError
from videojob.renderer.piper_voice import PiperVoice

if TYPE_CHECKING:
    import numpy as np

    from videojob.renderer.narration import TtsVoice

# onnxruntime's threads for the voice: one, on every machine. The thread count changes how
# onnxruntime splits its sums, and so the audio's last bits: a fixed count keeps the same words the
# same bytes on a one-CPU Pod and on a laptop. One, because the scene workers already fill the
# cores: a second thread sped a quiet machine's synthesis up by a third, but cost 15-20 % more CPU
# seconds, and every operator waits for both threads, which on a loaded machine means for a core.
SYNTHESIS_THREADS = 1


def write_wav(target: Path, samples: np.ndarray, sample_rate: int) -> None:
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(samples.tobytes())


def serve(requests: IO[str], replies: IO[str], threads: int) -> None:
    """Answer each request line until an empty line or the end of ``requests``."""
    for line in requests:
        if not line.strip():
            return
        try:
            request = json.loads(line)
            voice = PiperVoice.named(request["voice"], threads)
            samples = voice.speak(request["text"])
            write_wav(Path(request["target"]), samples, voice.config.sample_rate)
            reply: dict[str, Any] = {"samples": int(samples.size)}
        except Exception as error:  # every failure goes back to the narrator, which may fall back
            reply = {"error": f"{error}" if isinstance(error, NarrationError) else f"{type(error).__name__}: {error}"}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()
        give_back_memory()


def give_back_memory() -> None:
    """Return the C heap's free pages to the system (glibc keeps them otherwise): the renderer's Pod
    has a memory limit, and the scenes being drawn beside this process need it more."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to give back this way
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def main() -> int:
    parser = argparse.ArgumentParser(description="Speak narrations with a Piper voice, one JSON line each.")
    parser.add_argument("--threads", type=int, default=SYNTHESIS_THREADS)
    parser.add_argument("--voice", action="append", default=[], help="load this voice before the first request")
    arguments = parser.parse_args()
    # The replies get stdout's pipe to themselves: whatever a library prints goes to stderr instead.
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    for name in arguments.voice:
        PiperVoice.named(name, arguments.threads).session  # noqa: B018 - the load itself is the point
    give_back_memory()  # the model's parsed and rewritten copies (about 30 MiB) are garbage now
    try:
        serve(sys.stdin, replies, arguments.threads)
    except BrokenPipeError:  # the renderer is gone (stopped or killed): nobody to answer, nothing to say
        os._exit(0)  # not a normal exit: flushing the dead pipe again would print a traceback at shutdown
    return 0


class PiperWorker:
    """The renderer's side: starts the worker on first use and sends it one narration at a time."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    def start(self, voice: str) -> subprocess.Popen[str]:
        """The running worker, started (loading ``voice``) if it is not running."""
        if self._process is not None and self._process.poll() is not None:
            self.close()  # it died: its pipes are closed before a new one starts
        if self._process is None:
            command = [sys.executable, "-P", "-m", "videojob.renderer.piper_worker"]
            command += ["--threads", str(SYNTHESIS_THREADS), "--voice", voice]
            try:
                self._process = subprocess.Popen(
                    command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8"
                )
            except OSError as error:
                raise NarrationError(f"could not start the Piper worker: {error}") from error
        return self._process

    def speak(self, voice: str, text: str, target: Path) -> int:
        """``text`` spoken by ``voice`` into ``target`` (a WAV at the voice's rate); its sample count."""
        with self._lock:
            process = self.start(voice)
            assert process.stdin is not None and process.stdout is not None
            try:
                process.stdin.write(json.dumps({"voice": voice, "text": text, "target": str(target)}) + "\n")
                process.stdin.flush()
                line = process.stdout.readline()
            except OSError as error:
                line = ""
                problem = f"{error}"
            else:
                problem = "no answer"
            if not line:
                process.kill()
                self.close()
                raise NarrationError(f"the Piper worker stopped ({problem}; exit status {process.wait()})")
        reply = json.loads(line)
        if "error" in reply:
            raise NarrationError(reply["error"])
        return int(reply["samples"])

    def close(self) -> None:
        """Ask the worker to stop and wait for it. An empty line, not only the end of its stdin: scene
        workers forked since it started hold copies of that pipe, so it may never see the end."""
        process, self._process = self._process, None
        if process is None:
            return
        try:
            if process.stdin is not None:
                process.stdin.write("\n")
                process.stdin.close()
            process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait()
        finally:
            if process.stdout is not None:
                process.stdout.close()


_WORKER = PiperWorker()  # one per renderer process, shared by every narrator in it
atexit.register(_WORKER.close)


class PiperEngine:
    """The narration engine for ``piper:<voice>``: speaks in the worker process."""

    def __init__(self, worker: PiperWorker = _WORKER):
        self._worker = worker

    def prepare(self, voice: TtsVoice) -> None:
        """Start the worker (and load ``voice``) now, so that the first narration does not wait for it."""
        self._worker.start(voice.name)

    def synthesise(self, text: str, voice: TtsVoice, target: Path) -> None:
        self._worker.speak(voice.name, text, target)

    def close(self) -> None:
        """End the worker (a later narration starts a new one): waited for, its CPU counts as this process's."""
        self._worker.close()


if __name__ == "__main__":
    sys.exit(main())
