"""A deduplicating, delaying, rate-limited work queue of keys, for asyncio workers.

The same contract as controller-runtime's workqueue, which it keeps apart from the
reconcilers it feeds:

* ``add(key)``: the key is handed to a worker soon. A key waiting in the queue is not
  added twice, so a storm of watch events makes one reconcile.
* ``get()`` gives a key to one worker and ``done(key)`` hands it back. A key is never
  given to two workers at once: one added while it is being processed waits, and is
  queued again (once) by ``done``, so no change seen meanwhile is lost.
* ``add_after(key, seconds)``: later; of several pending delays for a key, the earliest wins.
* ``add_rate_limited(key)``: later, by the key's exponential backoff (each call is one
  more failure); ``forget(key)`` resets the backoff after a success.
* ``shutdown()``: ``get()`` returns None from then on, pending delays are dropped, adds
  are ignored.

Not thread-safe: every call happens on the event loop that runs the workers.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class ExponentialBackoff:
    """``base * 2**(failures - 1)`` seconds, capped: 4, 8, 16, 32, 60, 60... for base 4 and cap 60."""

    def __init__(self, base: float = 4.0, cap: float = 60.0) -> None:
        self.base, self.cap = base, cap

    def delay(self, failures: int, base: float | None = None) -> float:
        first = self.base if base is None else base
        return min(first * 2 ** min(max(failures - 1, 0), 32), self.cap)


class WorkQueue(Generic[K]):
    def __init__(self, backoff: ExponentialBackoff | None = None) -> None:
        self.backoff = backoff or ExponentialBackoff()
        self._queue: deque[K] = deque()
        self._dirty: set[K] = set()  # wants processing: in the queue, or added again while processing
        self._processing: set[K] = set()
        self._delayed: dict[K, asyncio.TimerHandle] = {}
        self._failures: dict[K, int] = {}
        self._getters: deque[asyncio.Future[None]] = deque()
        self._shutting_down = False

    def __len__(self) -> int:
        """Keys waiting for a worker (not those being processed or delayed)."""
        return len(self._queue)

    def add(self, key: K) -> None:
        if self._shutting_down or key in self._dirty:
            return
        self._dirty.add(key)
        if key in self._processing:
            return  # done() queues it again
        self._queue.append(key)
        self._wake_one()

    def add_after(self, key: K, seconds: float) -> None:
        if self._shutting_down:
            return
        if seconds <= 0:
            self.add(key)
            return
        loop = asyncio.get_running_loop()
        pending = self._delayed.get(key)
        if pending is not None:
            if pending.when() <= loop.time() + seconds:
                return
            pending.cancel()
        self._delayed[key] = loop.call_later(seconds, self._add_delayed, key)

    def add_rate_limited(self, key: K, base: float | None = None) -> float:
        """Add after the key's backoff (``base`` overrides the first delay); the delay chosen."""
        failures = self._failures[key] = self._failures.get(key, 0) + 1
        delay = self.backoff.delay(failures, base)
        self.add_after(key, delay)
        return delay

    def num_requeues(self, key: K) -> int:
        """Failures counted by add_rate_limited since the last forget."""
        return self._failures.get(key, 0)

    def forget(self, key: K) -> None:
        """Stop counting the key's failures (it succeeded, or it is gone)."""
        self._failures.pop(key, None)

    async def get(self) -> K | None:
        """The next key, marked as being processed; None once the queue shuts down."""
        while not self._queue:
            if self._shutting_down:
                return None
            waiter = asyncio.get_running_loop().create_future()
            self._getters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._wake_one()  # it was woken for a key: let another worker take it
                raise
        key = self._queue.popleft()
        self._dirty.discard(key)
        self._processing.add(key)
        return key

    def done(self, key: K) -> None:
        """The worker has finished with the key; queue it again if it was added meanwhile."""
        self._processing.discard(key)
        if key in self._dirty and not self._shutting_down:
            self._queue.append(key)
            self._wake_one()

    def shutdown(self) -> None:
        self._shutting_down = True
        for handle in self._delayed.values():
            handle.cancel()
        self._delayed.clear()
        self._queue.clear()
        self._dirty.clear()
        while self._getters:
            waiter = self._getters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    def _add_delayed(self, key: K) -> None:
        self._delayed.pop(key, None)
        self.add(key)

    def _wake_one(self) -> None:
        while self._getters:
            waiter = self._getters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
