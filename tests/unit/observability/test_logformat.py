"""The log format the operator, the gateway and the renderer share (videojob/logformat.py)."""

from __future__ import annotations

import asyncio
import io
import json
import logging

import pytest
from pydantic import ValidationError

from videojob import logformat
from videojob.api.settings import GatewaySettings
from videojob.renderer.settings import RendererSettings


def test_a_line_carries_its_fields_and_the_videojob_it_names_explicitly() -> None:
    stream = io.StringIO()
    logformat.configure("INFO", "json", stream)
    about = logformat.identity("team-a", "intro", None)
    logging.getLogger("videojob.api.access").info(
        "GET /v1/videos/intro 200", extra={"fields": {"status": 200, "message": "not this"}, "videojob": about}
    )
    [line] = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["videojob"] == {"namespace": "team-a", "name": "intro"}  # an unknown uid is left out
    assert (line["status"], line["message"]) == (200, "GET /v1/videos/intro 200")  # a field never hides the message


def test_a_bound_videojob_names_the_lines_of_its_own_task_only() -> None:
    stream = io.StringIO()
    logformat.configure("DEBUG", "json", stream)

    async def one(name: str) -> None:
        logformat.bind_videojob(logformat.identity("team-a", name, f"uid-{name}"))
        await asyncio.sleep(0)
        logging.getLogger("t").debug("about %s", name)

    async def both() -> None:
        await asyncio.gather(one("a"), one("b"))

    asyncio.run(both())
    lines = [line for text in stream.getvalue().splitlines() if (line := json.loads(text))["logger"] == "t"]
    assert {(line["message"], line["videojob"]["name"]) for line in lines} == {("about a", "a"), ("about b", "b")}


def test_the_level_filters_and_text_is_for_a_terminal() -> None:
    stream = io.StringIO()
    logformat.configure("WARNING", "text", stream)
    logging.getLogger("t").info("hidden")
    logging.getLogger("t").warning("shown", extra={"videojob": logformat.identity("team-a", "intro", "u")})
    assert stream.getvalue().rstrip().endswith("WARNING t: shown [videojob team-a/intro]")
    assert "hidden" not in stream.getvalue()


def test_a_bad_format_or_level_names_the_components_own_variable() -> None:
    with pytest.raises(ValidationError, match="VIDEOJOB_GATEWAY_LOG_FORMAT must be one of json, text, auto"):
        GatewaySettings(log_format="xml")
    with pytest.raises(ValidationError, match="VIDEOJOB_GATEWAY_LOG_LEVEL must be one of DEBUG"):
        GatewaySettings(log_level="loud")
    with pytest.raises(ValidationError, match="VIDEOJOB_LOG_FORMAT must be one of"):
        RendererSettings(log_format="yaml")
    assert GatewaySettings(log_format="JSON", log_level="debug").log_level == "DEBUG"
