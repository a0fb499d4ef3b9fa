"""Reading server-sent events in the tests, as a client would."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx2


def read_events(response: httpx2.Response) -> Iterator[tuple[str | None, str, dict[str, Any]]]:
    """(id, event, data) for each server-sent event, as they arrive."""
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if not line:
            if "data" in fields:
                yield fields.get("id"), fields.get("event", "message"), json.loads(fields["data"])
            fields = {}
        elif not line.startswith(":") and ": " in line:
            key, value = line.split(": ", 1)
            fields[key] = value
