"""Log lines shared by the operator, the gateway and the renderer: JSON for a log pipeline, plain text
for a person at a terminal.

    <PREFIX>LOG_FORMAT=json | text | auto   (auto: text when the stream is a terminal, else JSON)
    <PREFIX>LOG_LEVEL=DEBUG | INFO | WARNING | ERROR

A JSON line is one object: ``time`` (UTC, ms), ``level``, ``logger``, ``message``, the
``videojob`` it is about (``{"namespace", "name", "uid"}``) when there is one, any
``fields`` the caller adds (``extra={"fields": {...}}``), and ``error`` with the traceback.
So ``jq 'select(.videojob.name == "intro")'`` finds every line about one video, whichever
component wrote it.

Which VideoJob a line is about comes, in order, from ``extra={"videojob": {...}}``, from a
component's own lookup (kopf's per-object loggers, for the operator), or from
:func:`bind_videojob` (the rest of this task/request is about that VideoJob).
Third-party free: only the standard library.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Final, TextIO

FORMATS: Final = ("json", "text", "auto")
LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
IDENTITY_KEYS: Final = ("namespace", "name", "uid")
# The text format: the identity as a short suffix, so a terminal line stays readable.
TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s%(videojob_suffix)s"

Identity = dict[str, str]
IdentityLookup = Callable[[logging.LogRecord], Identity | None]

_bound: ContextVar[Identity | None] = ContextVar("videojob_log_identity", default=None)


class LogSettingError(ValueError):
    """A bad format or level; the message names the variable that holds it."""


def identity(namespace: str | None, name: str | None, uid: str | None) -> Identity:
    """The ``videojob`` object of a line: only the parts that are known."""
    return {key: value for key, value in zip(IDENTITY_KEYS, (namespace, name, uid), strict=True) if value}


def identity_of(body: Mapping[str, Any] | None) -> Identity:
    """The identity of a VideoJob object (its metadata), or ``{}``."""
    metadata = (body or {}).get("metadata") or {}
    return identity(metadata.get("namespace"), metadata.get("name"), metadata.get("uid"))


def bind_videojob(bound: Identity | None) -> None:
    """Lines logged from here on in this task are about this VideoJob (``None``: about none)."""
    _bound.set(bound or None)


def bound_videojob() -> Identity | None:
    return _bound.get()


def check_format(value: str, variable: str) -> str:
    """``value`` as a format name (lower case), or :class:`LogSettingError` naming ``variable``."""
    fmt = value.strip().lower()
    if fmt not in FORMATS:
        raise LogSettingError(f"{variable} must be one of {', '.join(FORMATS)}, not {value!r}")
    return fmt


def check_level(value: str, variable: str) -> str:
    """``value`` as a level name (upper case), or :class:`LogSettingError` naming ``variable``."""
    level = value.strip().upper()
    if level not in LEVELS:
        raise LogSettingError(f"{variable} must be one of {', '.join(LEVELS)}, not {value!r}")
    return level


def resolve_format(fmt: str, stream: TextIO) -> str:
    """``auto`` becomes ``text`` on a terminal and ``json`` anywhere else."""
    if fmt != "auto":
        return fmt
    isatty = getattr(stream, "isatty", None)
    return "text" if isatty is not None and isatty() else "json"


class AddIdentity(logging.Filter):
    """Puts ``record.videojob`` (the identity or None) and ``record.videojob_suffix`` on every record."""

    def __init__(self, lookup: IdentityLookup | None = None) -> None:
        super().__init__()
        self.lookup = lookup

    def filter(self, record: logging.LogRecord) -> bool:
        found = getattr(record, "videojob", None)
        if not isinstance(found, dict):
            found = (self.lookup(record) if self.lookup else None) or _bound.get()
        record.videojob = found or None
        if found:
            where = "/".join(found[key] for key in ("namespace", "name") if key in found) or found.get("uid", "")
            record.videojob_suffix = f" [videojob {where}]"
        else:
            record.videojob_suffix = ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line (never a newline inside: tracebacks are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        line: dict[str, Any] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        found = getattr(record, "videojob", None)
        if found:
            line["videojob"] = found
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            line.update({key: value for key, value in fields.items() if key not in line})
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def make_handler(
    fmt: str,
    stream: TextIO | None = None,
    *,
    text_format: str = TEXT_FORMAT,
    lookup: IdentityLookup | None = None,
) -> logging.Handler:
    """A handler writing ``fmt`` (json, text or auto) lines to ``stream`` (stderr)."""
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    handler.addFilter(AddIdentity(lookup))
    json_lines = resolve_format(fmt, stream) == "json"
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(text_format))
    return handler


def configure(
    level: str,
    fmt: str,
    stream: TextIO | None = None,
    *,
    prefix: str = "VIDEOJOB_",
    text_format: str = TEXT_FORMAT,
    lookup: IdentityLookup | None = None,
) -> logging.Handler:
    """Replace the root logger's handlers with one writing ``fmt`` lines at ``level``.

    ``prefix`` names the variables in the error a bad value raises (:class:`LogSettingError`).
    """
    fmt = check_format(fmt, f"{prefix}LOG_FORMAT")
    level = check_level(level, f"{prefix}LOG_LEVEL")
    handler = make_handler(fmt, stream, text_format=text_format, lookup=lookup)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
