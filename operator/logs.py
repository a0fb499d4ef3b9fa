"""The operator's log lines (the format is :mod:`videojob.logformat`, shared with the gateway and renderer).

    VIDEOJOB_LOG_FORMAT=json | text | auto   (auto, the default: text when stderr is a terminal, else JSON)
    VIDEOJOB_LOG_LEVEL=INFO

Every line logged while a VideoJob is being reconciled carries its namespace, name and
uid (:func:`bind_videojob` marks the reconcile), and so do kopf's own lines about an
object, so ``jq 'select(.videojob.name == "intro")'`` finds everything about one video.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol, TextIO

from videojob import logformat

FORMATS = logformat.FORMATS


class _Cache(Protocol):
    def videojob(self, uid: str) -> Mapping[str, Any] | None: ...


def bind_videojob(uid: str, world: _Cache | None) -> None:
    """Lines logged from here on in this task are about this VideoJob (until the next bind)."""
    body = world.videojob(uid) if world is not None else None
    metadata = (body or {}).get("metadata") or {}
    logformat.bind_videojob(logformat.identity(metadata.get("namespace"), metadata.get("name"), uid))


def _kopf_identity(record: logging.LogRecord) -> logformat.Identity | None:
    ref = getattr(record, "k8s_ref", None)  # kopf's per-object loggers
    if isinstance(ref, dict) and ref.get("kind") == "VideoJob":
        return logformat.identity(ref.get("namespace"), ref.get("name"), ref.get("uid"))
    return None


def configure(level: str = "INFO", fmt: str = "auto", stream: TextIO | None = None) -> None:
    """Replace the root logger's handlers with one that writes ``fmt`` lines to ``stream`` (stderr);
    a bad format or level stops the start with a message naming the variable."""
    try:
        logformat.configure(level, fmt, stream, lookup=_kopf_identity)
    except logformat.LogSettingError as error:
        raise SystemExit(f"videojob-operator: {error}") from None
