"""Reading a create request's body: JSON, or the multipart form the OpenAI client sends.

``client.videos.create`` always posts ``multipart/form-data`` (it may carry a reference
image), with its ``extra_body`` flattened into bracketed names (``voice[name]``). The
stdlib's MIME parser reads that; no extra dependency. A body over the limit is 413,
another content type 415, and neither creates anything.
"""

from __future__ import annotations

import json
import re
import sys
from collections import deque
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from fastapi import Request

from .errors import GatewayError

_BRACKETS = re.compile(r"\[([^\]]*)\]")
_DIGITS = re.compile(r"[+-]?[0-9]+")
# Free text may be anything, digits included; every other field is a short value.
_FREE_TEXT_FIELDS = ("prompt", "markdown")


class _UnreadableNumber:
    """A JSON integer too long for Python to read (over ``sys.get_int_max_str_digits()`` digits)."""

    def __init__(self, digits: int) -> None:
        self.digits = digits


def _read_int(text: str) -> int | _UnreadableNumber:
    try:
        return int(text)
    except ValueError:  # Python's own guard against quadratic conversions; no field takes such a number
        return _UnreadableNumber(len(text.lstrip("+-")))


def _too_many_digits(param: str, digits: int) -> GatewayError:
    return GatewayError(
        422,
        "invalid_request",
        f"{param}: a number of {digits} digits is not one any field takes; send a short whole number",
        param,
    )


def _refuse_unreadable_numbers(data: Any) -> None:
    """A 422 naming the first field that holds a number too long to read (a loop: bodies nest deeply)."""
    pending: deque[tuple[str, Any]] = deque([("", data)])
    while pending:
        path, value = pending.popleft()
        if isinstance(value, _UnreadableNumber):
            raise _too_many_digits(path or "body", value.digits)
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        pending.extend((f"{path}.{key}" if path else str(key), item) for key, item in items)


def _refuse_unreadable_digit_strings(fields: dict[str, Any]) -> None:
    """A top-level value sent as text (a form field, or a JSON string) that is a number too long to read."""
    for name, value in fields.items():
        if name in _FREE_TEXT_FIELDS or not isinstance(value, str):
            continue
        digits = len(value.strip().lstrip("+-"))
        if digits > sys.get_int_max_str_digits() and _DIGITS.fullmatch(value.strip()):
            raise _too_many_digits(name, digits)


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> GatewayError:
    return GatewayError(
        413,
        "request_too_large",
        f"the request body is over {limit} bytes; a Markdown lecture "
        "may be up to 64 KiB (send a shorter one, or split it into several videos)",
    )


def _set(target: dict[str, Any], name: str, value: Any) -> None:
    head, _, rest = name.partition("[")
    path = [head, *_BRACKETS.findall("[" + rest)] if rest else [head]
    node = target
    for part, following in zip(path, [*path[1:], None], strict=True):
        if following is None:
            if part == "":
                raise GatewayError(422, "invalid_request", f"form field {name!r}: send lists as JSON", head)
            node[part] = value
        else:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise GatewayError(422, "invalid_request", f"form field {name!r} clashes with another", head)


def parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise GatewayError(400, "bad_request", "the multipart body could not be read (missing boundary?)")
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        if part.get_filename() is not None:
            raise GatewayError(
                422,
                "unsupported_parameter",
                f"{name}: file uploads are not supported "
                "(a video starts from a prompt, a Markdown lecture or a storyboard)",
                name,
            )
        payload = part.get_payload(decode=True)
        text = payload.decode("utf-8") if isinstance(payload, bytes) else str(payload)
        if name == "storyboard":  # a structure with lists: only JSON carries it
            try:
                _set(fields, name, json.loads(text, parse_int=_read_int))
            except (ValueError, RecursionError):
                raise GatewayError(422, "invalid_request", "storyboard: send it as JSON", "storyboard") from None
            continue
        _set(fields, name, text)
    _refuse_unreadable_numbers(fields)
    _refuse_unreadable_digit_strings(fields)
    return fields


async def read_create_body(request: Request, limit: int) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";")[0].strip().lower()
    if media not in ("application/json", "multipart/form-data"):
        raise GatewayError(
            415,
            "unsupported_media_type",
            f"send the video as application/json (or multipart/form-data), "
            f"not {media or 'a body without a Content-Type'}",
        )
    body = await read_limited(request, limit)
    if media == "multipart/form-data":
        return parse_multipart(content_type, body)
    try:
        data = json.loads(body or b"null", parse_int=_read_int)
    except json.JSONDecodeError as error:
        raise GatewayError(400, "invalid_json", f"the body is not valid JSON: {error}") from None
    except UnicodeDecodeError as error:
        raise GatewayError(
            400, "invalid_json", f"the body is not valid JSON: it is not UTF-8 (byte {error.start})"
        ) from None
    except RecursionError:  # Python's parser gives up on deep nesting, which no video needs
        raise GatewayError(400, "invalid_json", "the body is not valid JSON: it nests too deeply") from None
    if not isinstance(data, dict):
        raise GatewayError(
            422, "invalid_request", "the body must be a JSON object with one of prompt, markdown or storyboard"
        )
    _refuse_unreadable_numbers(data)
    _refuse_unreadable_digit_strings(data)
    return data
