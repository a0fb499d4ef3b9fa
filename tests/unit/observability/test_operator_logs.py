"""The operator's log lines: JSON with the VideoJob's identity for a pipeline, plain text on a terminal."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from typing import Any

import pytest

from videojob.operator import logs

UID = "0b7d8a52-7e2f-4b4e-9a8c-2a2f7d6c1e01"


class World:
    def videojob(self, uid: str) -> dict[str, Any] | None:
        return {"metadata": {"namespace": "team-a", "name": "intro", "uid": uid}} if uid == UID else None


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_line_logged_while_reconciling_carries_the_videojobs_namespace_name_and_uid() -> None:
    stream = io.StringIO()
    logs.configure("INFO", "json", stream)

    async def reconcile() -> None:
        logs.bind_videojob(UID, World())
        logging.getLogger("videojob.operator.reconciler").warning("reconciling failed: %s", "409 Conflict")

    asyncio.run(reconcile())
    logging.getLogger("videojob.operator.events").info("not about any VideoJob")
    about, other = lines(stream)
    assert about["videojob"] == {"namespace": "team-a", "name": "intro", "uid": UID}
    assert (about["level"], about["message"]) == ("warning", "reconciling failed: 409 Conflict")
    assert about["time"].endswith("Z") and about["logger"] == "videojob.operator.reconciler"
    assert "videojob" not in other


def test_kopfs_own_lines_about_a_videojob_carry_its_identity() -> None:
    stream = io.StringIO()
    logs.configure("INFO", "json", stream)
    ref = {
        "apiVersion": "videojob.dev/v1alpha1",
        "kind": "VideoJob",
        "namespace": "team-a",
        "name": "intro",
        "uid": UID,
    }
    logging.getLogger("kopf.objects").error("Handler failed", extra={"k8s_ref": ref})
    assert lines(stream)[0]["videojob"] == {"namespace": "team-a", "name": "intro", "uid": UID}


def test_a_traceback_stays_inside_its_json_line() -> None:
    stream = io.StringIO()
    logs.configure("INFO", "json", stream)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("x").exception("it broke")
    [line] = lines(stream)
    assert "RuntimeError: boom" in line["error"]


def test_a_terminal_gets_the_plain_format_with_the_videojob_named() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    logs.configure("INFO", "auto", stream)

    async def reconcile() -> None:
        logs.bind_videojob(UID, World())
        logging.getLogger("videojob.operator.reconciler").info("status written")

    asyncio.run(reconcile())
    assert stream.getvalue().rstrip().endswith("videojob.operator.reconciler: status written [videojob team-a/intro]")


def test_an_unknown_format_or_level_stops_the_start_naming_the_variable() -> None:
    with pytest.raises(SystemExit, match="VIDEOJOB_LOG_FORMAT must be one of json, text, auto, not 'xml'"):
        logs.configure("INFO", "xml")
    with pytest.raises(SystemExit, match="VIDEOJOB_LOG_LEVEL"):
        logs.configure("LOUD", "json")
