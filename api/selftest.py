"""``videojob-gateway selftest``: prove a release renders a video, through its gateway.

    VIDEOJOB_SELFTEST_API_KEY=vj_... videojob-gateway selftest --url http://videojob-gateway.videojob-system.svc

It submits a one-scene storyboard (low quality, the espeak voice: no LLM, no paid API),
follows the video until it is ``completed`` or ``failed``, downloads the MP4 from the
presigned URL the gateway hands out and checks its sha256 against the status, and, when the status
lists one, the contact sheet (it must be a PNG), then deletes the video (retention Delete removes its
files). A renderer from before contact sheets makes none; the check says so and still passes.
Exit 0 means a user's video would render; anything else prints what went wrong. ``helm test``
runs it in the chart's test Pod.

Only the standard library is used, so the check depends on nothing but the gateway's
HTTP API as a user's client sees it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

KEY_VARIABLE = "VIDEOJOB_SELFTEST_API_KEY"
TINY_STORYBOARD: dict[str, Any] = {
    "title": "videojob self-test",
    "scenes": [{"template": "title", "title": "It works", "narration": "This release renders videos."}],
}
TERMINAL = ("completed", "failed")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class SelftestError(Exception):
    """The release did not render the test video; the message says at which step."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body or b"null")


class Client:
    """The gateway's API over urllib, with the tenant's bearer key."""

    def __init__(self, url: str, key: str, timeout: float = 30) -> None:
        self.url, self.key, self.timeout = url.rstrip("/"), key, timeout

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Answer:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.key}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return Answer(response.status, response.read(), dict(response.headers))
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.read(), dict(error.headers))
        except (urllib.error.URLError, OSError) as error:
            raise SelftestError(f"{method} {self.url}{path}: the gateway did not answer ({error})") from None


def _error_text(answer: Answer) -> str:
    try:
        error = answer.json()["error"]
        return f"{error.get('code')}: {error.get('message')}"
    except (ValueError, KeyError, TypeError):
        return answer.body[:300].decode(errors="replace")


def run(
    client: Client,
    timeout: float,
    *,
    poll: float = 2.0,
    keep: bool = False,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Submit, follow, download and check one tiny video; return its final object."""
    ready = client.request("GET", "/readyz")
    if ready.status != 200:
        raise SelftestError(f"GET /readyz answered {ready.status}: the gateway is not ready")
    body = {"storyboard": TINY_STORYBOARD, "quality": "low", "voice": {"provider": "espeak"}}
    if not keep:
        body["retention"] = "Delete"
    created = client.request("POST", "/v1/videos", body)
    if created.status != 202:
        raise SelftestError(f"POST /v1/videos answered {created.status}: {_error_text(created)}")
    video = created.json()
    say(f"submitted video {video['id']}")
    deadline = time.monotonic() + timeout
    last = ""
    while video["status"] not in TERMINAL:
        if time.monotonic() > deadline:
            raise SelftestError(f"video {video['id']} is still {video['status']} after {timeout:.0f} s")
        time.sleep(poll)
        answer = client.request("GET", f"/v1/videos/{video['id']}")
        if answer.status != 200:
            raise SelftestError(f"GET /v1/videos/{video['id']} answered {answer.status}: {_error_text(answer)}")
        video = answer.json()
        line = f"{video['status']} {video.get('progress', 0)}% {video.get('stage') or ''}".strip()
        if line != last:
            say(f"  {line}")
            last = line
    if video["status"] != "completed":
        error = video.get("error") or {}
        raise SelftestError(f"video {video['id']} failed: {error.get('code')}: {error.get('message')}")
    _check_download(client, video)
    say(f"video {video['id']} completed and its download matches sha256 {video['output']['sha256'][:16]}...")
    say(_check_contact_sheet(client, video))
    if not keep:
        deleted = client.request("DELETE", f"/v1/videos/{video['id']}")
        if deleted.status != 200:
            raise SelftestError(f"DELETE /v1/videos/{video['id']} answered {deleted.status}: {_error_text(deleted)}")
    return video


def _download(client: Client, video: dict[str, Any], variant: str) -> bytes:
    """Fetch the presigned URL the content route hands out, without the API key (S3 must not see it)."""
    answer = client.request("GET", f"/v1/videos/{video['id']}/content?variant={variant}&redirect=false")
    what = "content" if variant == "video" else f"{variant} content"
    if answer.status != 200:
        raise SelftestError(f"the {what} of video {video['id']} answered {answer.status}: {_error_text(answer)}")
    url = answer.json()["url"]
    try:
        with urllib.request.urlopen(url, timeout=client.timeout) as response:
            return response.read()
    except (urllib.error.URLError, OSError) as error:
        raise SelftestError(
            f"downloading the {variant} of video {video['id']} from {url.split('?')[0]} failed: {error}"
        ) from None


def _check_contact_sheet(client: Client, video: dict[str, Any]) -> str:
    """The contact sheet, when the status lists one: it must be a PNG. What was checked, as a line to print."""
    if "contact_sheet" not in (video.get("content") or {}):
        return f"video {video['id']} has no contact sheet (its renderer makes none): not checked"
    data = _download(client, video, "contact_sheet")
    if not data.startswith(PNG_SIGNATURE):
        raise SelftestError(
            f"the contact sheet of video {video['id']} ({len(data)} bytes) is not a PNG: it starts {data[:8]!r}"
        )
    return f"video {video['id']} has a contact sheet: a PNG of {len(data)} bytes"


def _check_download(client: Client, video: dict[str, Any]) -> None:
    data = _download(client, video, "video")
    digest = hashlib.sha256(data).hexdigest()
    expected = (video.get("output") or {}).get("sha256")
    if digest != expected:
        raise SelftestError(
            f"the download of video {video['id']} ({len(data)} bytes) has sha256 {digest}, the status says {expected}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="videojob-gateway selftest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the gateway's base URL, e.g. http://videojob-gateway.NS.svc")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for the video (default 600)")
    parser.add_argument("--keep", action="store_true", help="keep the video and its files (default: delete them)")
    args = parser.parse_args(argv)
    key = os.environ.get(KEY_VARIABLE, "")
    if not key:
        print(f"videojob-gateway selftest: set {KEY_VARIABLE} to a tenant's API key", file=sys.stderr)
        return 2
    try:
        run(Client(args.url, key), args.timeout, keep=args.keep, say=lambda line: print(line, flush=True))
    except SelftestError as error:
        print(f"videojob-gateway selftest: {error}", file=sys.stderr)
        return 1
    return 0
