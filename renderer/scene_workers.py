"""Scene workers that take scenes as they become ready, so narration overlaps drawing.

A scene can be drawn as soon as its speech exists (its length paces the animation), so
the stage narrates one scene, hands it here, and narrates the next while workers draw.
Manim is imported in a thread while the first scenes are narrated (:attr:`SceneWorkers.ready`
says when it is done); the worker processes are forked once it is and a scene is handed
in, when no other thread of ours is running (forking while another thread holds a lock
can leave the child deadlocked). Finished scenes are handed back on the caller's thread,
in :meth:`SceneWorkers.collect`, so caching and progress never run on a pool thread.

With one worker the scenes are drawn in this process, one after the other, and Manim is
imported when the first is: on one core drawing, importing and narration could only take
turns, no fork is needed, and the narration's memory is not held beside Manim's.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from types import TracebackType

from videojob.renderer.errors import LatexRejectedError, RenderError
from videojob.renderer.manim_render import RenderedScene, SceneJob, preload, render_scene

DRAWING_NICENESS = 5  # how much less CPU a scene worker gets than the narration when both want a core


class SceneWorkers:
    """Draws submitted scenes with up to ``workers`` processes; ``on_done`` gets each as it finishes."""

    def __init__(self, workers: int, on_done: Callable[[RenderedScene], None]):
        self.workers = max(1, workers)
        self._on_done = on_done
        self._importing: threading.Thread | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._pending: set[Future[RenderedScene]] = set()
        self._submitted = 0

    def __enter__(self) -> SceneWorkers:
        if self.workers > 1:  # one worker: on one core the import could only take turns with the narration,
            self._importing = threading.Thread(target=preload, name="import-manim", daemon=True)
            self._importing.start()  # and Manim would hold its memory beside the voice's: it is imported later
        return self

    def submit(self, job: SceneJob) -> None:
        """Draw ``job``: now when there is one worker, else in a worker process (forked on first use)."""
        self._wait_for_import()
        self._submitted += 1
        if self.workers == 1:
            self._on_done(_drawn(render_scene, job))
            return
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("fork"), initializer=_yield_to_narration
            )
        self._pending.add(self._pool.submit(render_scene, job))

    def collect(self, block: bool = False) -> None:
        """Hand every finished scene to ``on_done``; with ``block``, wait until all are finished."""
        while self._pending:
            finished, self._pending = wait(self._pending, timeout=None if block else 0, return_when=FIRST_COMPLETED)
            if not finished:
                return
            for future in finished:
                self._on_done(_drawn(Future.result, future))

    @property
    def ready(self) -> bool:
        """Whether Manim is imported, so that a scene submitted now starts drawing at once."""
        return self._importing is None or not self._importing.is_alive()

    @property
    def started(self) -> bool:
        """Whether any scene has been submitted."""
        return self._submitted > 0

    @property
    def drawing(self) -> int:
        """Scenes handed in and not yet finished."""
        return len(self._pending)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        try:
            if error is None:
                self.collect(block=True)
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
            self._wait_for_import()

    def _wait_for_import(self) -> None:
        if self._importing is not None:
            self._importing.join()  # no thread may be running when the scene workers are forked
            self._importing = None


def _yield_to_narration() -> None:
    """A scene worker runs at a lower priority than the narration: a scene cannot start drawing before
    it is spoken, so when the cores are short the voice goes first and keeps every worker fed (measured:
    without it both workers sat idle while the longest narration was spoken beside them). Any user may
    lower its own priority; the render's share against other programs is not changed by it."""
    os.nice(DRAWING_NICENESS)


def _drawn(draw: Callable[..., RenderedScene], *arguments: object) -> RenderedScene:
    """``draw(*arguments)``, with any failure Manim, TeX or PyAV raises reported as the scene's RenderError."""
    try:
        return draw(*arguments)
    except (RenderError, LatexRejectedError):
        raise
    except Exception as error:  # Manim, TeX and PyAV raise all sorts; the scene is what matters
        raise RenderError(f"rendering failed: {type(error).__name__}: {str(error)[:500]}") from error
