"""The operator's log lines: one JSON object per line for a log pipeline, the plain format on a terminal.

    VIDEOJOB_LOG_FORMAT=json | text | auto   (auto, the default: text when stderr is a terminal, else JSON)
    VIDEOJOB_LOG_LEVEL=INFO

Every line logged while a VideoJob is being reconciled carries its namespace, name and
uid (:func:`bind_videojob` marks the reconcile), and so do kopf's own lines about an
object, so ``jq 'select(.videojob.name == "intro")'`` finds everything about one video.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Protocol, TextIO

FORMATS = ("json", "text", "auto")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(videojob_suffix)s"

_bound: ContextVar[dict[str, str] | None] = ContextVar("videojob_log_identity", default=None)


class _Cache(Protocol):
    def videojob(self, uid: str) -> Mapping[str, Any] | None: ...


def bind_videojob(uid: str, world: _Cache | None) -> None:
    """Lines logged from here on in this task are about this VideoJob (until the next bind)."""
    body = world.videojob(uid) if world is not None else None
    metadata = (body or {}).get("metadata") or {}
    identity = {"namespace": metadata.get("namespace"), "name": metadata.get("name"), "uid": uid}
    _bound.set({key: value for key, value in identity.items() if value})


def _identity(record: logging.LogRecord) -> dict[str, str] | None:
    explicit = getattr(record, "videojob", None)
    if isinstance(explicit, dict):
        return explicit
    ref = getattr(record, "k8s_ref", None)  # kopf's per-object loggers
    if isinstance(ref, dict) and ref.get("kind") == "VideoJob":
        return {key: ref[key] for key in ("namespace", "name", "uid") if ref.get(key)}
    return _bound.get()


class _AddIdentity(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        identity = _identity(record)
        record.videojob = identity
        where = "/".join(identity[k] for k in ("namespace", "name") if k in identity) if identity else ""
        record.videojob_suffix = f" [videojob {where or identity.get('uid')}]" if identity else ""
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        line: dict[str, Any] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        identity = getattr(record, "videojob", None)
        if identity:
            line["videojob"] = identity
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(level: str = "INFO", fmt: str = "auto", stream: TextIO | None = None) -> None:
    """Replace the root logger's handlers with one that writes ``fmt`` lines to ``stream`` (stderr)."""
    if fmt not in FORMATS:
        raise SystemExit(f"videojob-operator: VIDEOJOB_LOG_FORMAT must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if level.upper() not in logging.getLevelNamesMapping():
        raise SystemExit(f"videojob-operator: VIDEOJOB_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {level!r}")
    stream = stream or sys.stderr
    if fmt == "auto":
        fmt = "text" if stream.isatty() else "json"
    handler = logging.StreamHandler(stream)
    handler.addFilter(_AddIdentity())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
