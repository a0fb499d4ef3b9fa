"""kopf's per-object bookkeeping, switched off: the operator has no handler that needs it.

On every watch event kopf builds a "diff-base" essence of the object (a deep copy of the
body without its status) and clears handler progress from it (another deep copy), to
detect changes for on.create/on.update handlers and to resume multi-step handlers. The
operator has neither: it reacts with on.event handlers and reads kopf's indexes, and it
keeps its own state in the VideoJob status. In a 1,000-VideoJob burst on 100 kwok nodes,
those copies were the largest single cost on the operator's event loop (cProfile:
``copy.deepcopy`` under ``diffbase.build`` and ``progress.clear``); these storages make
them free. :func:`assert_only_event_handlers` keeps that assumption checked at start-up.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import kopf


class NoDiffBase(kopf.DiffBaseStorage):
    """Keeps no last-handled configuration: there are no on.create/on.update handlers to diff for."""

    def build(self, *, body: Any, extra_fields: Iterable[Any] | None = None) -> Any:
        return {}

    def fetch(self, *, body: Any) -> Any:
        return None

    def store(self, *, body: Any, patch: Any, essence: Any) -> None:
        pass


class NoHandlerProgress(kopf.ProgressStorage):
    """Keeps no per-handler progress: event handlers are not retried or resumed by kopf."""

    def fetch(self, *, key: Any, body: Any) -> Any:
        return None

    def store(self, *, key: Any, record: Any, body: Any, patch: Any) -> None:
        pass

    def purge(self, *, key: Any, body: Any, patch: Any) -> None:
        pass

    def touch(self, *, body: Any, patch: Any, value: str | None) -> None:
        pass

    def clear(self, *, essence: Any) -> Any:
        return essence  # nothing of ours to strip, and no copy of it


def assert_only_event_handlers(registry: Any) -> None:
    """Refuse to start with a change-detecting or spawning handler: it would need the storages above."""
    changing = list(registry._changing.get_all_handlers())
    spawning = list(registry._spawning.get_all_handlers())
    if changing or spawning:
        names = ", ".join(str(handler.id) for handler in changing + spawning)
        raise RuntimeError(f"kopf's diff-base and progress storage are off, but these handlers need them: {names}")


def install(settings: kopf.OperatorSettings, registry: Any) -> None:
    assert_only_event_handlers(registry)
    settings.persistence.diffbase_storage = NoDiffBase()
    settings.persistence.progress_storage = NoHandlerProgress()
