"""Kubernetes Events on VideoJobs (what ``kubectl describe vj`` lists), posted in the background.

Every Event names its object explicitly, from the body it is about. kopf's own poster is
not used for these: it finds its queue in context variables that kopf sets only while
one object's handler runs, so posting from the work queue's workers would have meant
running every reconcile in some other object's handler context.

Posting never blocks a reconcile and is best effort, like kopf's and client-go's
recorders: a failed post is retried twice, then logged and dropped. Events of one object
go through one poster, so they are created in the order they happened.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from .builders import MANAGED_BY
from .errors import OperatorError, PermanentApiError

logger = logging.getLogger(__name__)

EventSink = Callable[[Mapping[str, Any], str, str, str], None]  # (object, type, reason, message)
MAX_MESSAGE_LENGTH = 1024  # what the API server keeps of a message
RETRY_DELAYS = (0.5, 2.0)
POSTERS = 16  # Events posted at once (each VideoJob's in order, through one of them)


class EventApi(Protocol):
    async def create_event(self, namespace: str, event: Mapping[str, Any]) -> None: ...


def build_event(
    obj: Mapping[str, Any],
    type_: str,
    reason: str,
    message: str,
    now: datetime,
    component: str = MANAGED_BY,
    instance: str = "",
) -> dict[str, Any]:
    """A core/v1 Event about ``obj`` (a VideoJob body), as `kubectl describe` shows it."""
    metadata = obj["metadata"]
    moment = now.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    if len(message) > MAX_MESSAGE_LENGTH:
        message = message[: MAX_MESSAGE_LENGTH - 3] + "..."
    event: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": f"{metadata['name']}.", "namespace": metadata["namespace"]},
        "involvedObject": {
            "apiVersion": obj["apiVersion"],
            "kind": obj["kind"],
            "name": metadata["name"],
            "namespace": metadata["namespace"],
            "uid": metadata["uid"],
        },
        "type": type_,
        "reason": reason,
        "message": message,
        "source": {"component": component},
        "reportingComponent": component,
        "firstTimestamp": moment,
        "lastTimestamp": moment,
        "count": 1,
    }
    if instance:
        event["reportingInstance"] = instance
    return event


class EventRecorder:
    """``record(videojob, type, reason, message)`` queues an Event; ``start()`` begins posting."""

    def __init__(self, api: EventApi, posters: int = POSTERS) -> None:
        self._api = api
        self._queues: list[asyncio.Queue[dict[str, Any]]] = [asyncio.Queue() for _ in range(posters)]
        self._tasks: list[asyncio.Task[None]] = []
        self._instance = os.environ.get("HOSTNAME") or os.uname().nodename

    def record(self, obj: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        event = build_event(obj, type_, reason, message, datetime.now(UTC), instance=self._instance)
        self._queues[hash(obj["metadata"]["uid"]) % len(self._queues)].put_nowait(event)

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._post_forever(queue), name=f"event-poster-{index}", context=contextvars.Context())
            for index, queue in enumerate(self._queues)
        ]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _post_forever(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        while True:
            event = await queue.get()
            try:
                await self._post(event)
            except Exception:
                logger.exception("posting Event %s failed", event["reason"])

    async def _post(self, event: dict[str, Any]) -> None:
        namespace = event["metadata"]["namespace"]
        for attempt in range(len(RETRY_DELAYS) + 1):
            try:
                await self._api.create_event(namespace, event)
                return
            except OperatorError as error:
                if attempt == len(RETRY_DELAYS) or isinstance(error, PermanentApiError):
                    logger.warning(
                        "dropped Event %s on %s/%s: %s",
                        event["reason"],
                        namespace,
                        event["involvedObject"]["name"],
                        error,
                    )
                    return
            await asyncio.sleep(RETRY_DELAYS[attempt])
