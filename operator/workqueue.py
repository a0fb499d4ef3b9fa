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
* ``add(key, low_priority=True)``: only a look, as controller-runtime's priority queue
  gives the objects of an initial list that need nothing: handed out after every key of
  normal priority, except that at most ``LOW_PRIORITY_AFTER`` normal keys in a row pass a
  waiting low one (a steady stream of watch events cannot hold a pass off for ever). A
  low key added again normally moves up; a normal one is never moved down.
* ``watch_pass(keys, on_over)``: ``on_over(count, seconds)`` once every one of ``keys`` has
  been handed out and marked done (a reconcile that failed was still a look).
* ``shutdown()``: ``get()`` returns None from then on, pending delays are dropped, adds
  are ignored.

Not thread-safe: every call happens on the event loop that runs the workers.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

LOW_PRIORITY_AFTER = 4  # normal keys handed out in a row while a low one waits, at most


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
        self._low: deque[K] = deque()  # may hold keys moved up since (skipped: they are in _queue)
        self._dirty: dict[K, bool] = {}  # waiting in a queue: low priority?
        self._again: dict[K, bool] = {}  # added again while processing (done() queues it): low priority?
        self._normal_in_a_row = 0
        self._passes: list[_Pass[K]] = []
        self._processing: set[K] = set()
        self._delayed: dict[K, asyncio.TimerHandle] = {}
        self._failures: dict[K, int] = {}
        self._getters: deque[asyncio.Future[None]] = deque()
        self._shutting_down = False

    def __len__(self) -> int:
        """Keys waiting for a worker (not those being processed or delayed)."""
        return len(self._dirty)

    def add(self, key: K, low_priority: bool = False) -> None:
        if self._shutting_down:
            return
        pending = self._again if key in self._processing else self._dirty
        was_low = pending.get(key)
        if was_low is not None and (low_priority or not was_low):
            return  # already waiting, as urgently or more
        pending[key] = low_priority
        if pending is self._again:
            return  # done() queues it again
        (self._low if low_priority else self._queue).append(key)
        if was_low is None:
            self._wake_one()

    def watch_pass(self, keys: Iterable[K], on_over: Callable[[int, float], None]) -> None:
        """Call ``on_over(count, seconds)`` once each of ``keys`` has been handed out and marked done."""
        left = set(keys)
        clock = asyncio.get_running_loop().time
        if not left:
            on_over(0, 0.0)
            return
        self._passes.append(_Pass(left, len(left), clock(), clock, on_over))

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
        while not (key := self._next()):
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
        del self._dirty[key.value]
        self._processing.add(key.value)
        return key.value

    def _next(self) -> _Key[K] | None:
        """The key to hand out next, taken off its queue; None when none waits."""
        while self._low and self._dirty.get(self._low[0]) is not True:
            self._low.popleft()  # moved up to the normal queue, or handed out from there
        if self._queue and not (self._low and self._normal_in_a_row >= LOW_PRIORITY_AFTER):
            self._normal_in_a_row = self._normal_in_a_row + 1 if self._low else 0
            return _Key(self._queue.popleft())
        if self._low:
            self._normal_in_a_row = 0
            return _Key(self._low.popleft())
        return None

    def done(self, key: K) -> None:
        """The worker has finished with the key; queue it again if it was added meanwhile."""
        self._processing.discard(key)
        low = self._again.pop(key, None)
        if low is not None and not self._shutting_down:
            self._dirty[key] = low
            (self._low if low else self._queue).append(key)
            self._wake_one()
        for seen in [seen for seen in self._passes if seen.saw(key)]:
            self._passes.remove(seen)
            seen.on_over(seen.count, seen.clock() - seen.began)

    def shutdown(self) -> None:
        self._shutting_down = True
        for handle in self._delayed.values():
            handle.cancel()
        self._delayed.clear()
        self._queue.clear()
        self._low.clear()
        self._dirty.clear()
        self._again.clear()
        self._passes.clear()
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


class _Key(Generic[K]):
    """A key taken off a queue (a wrapper, so that a falsy key is still a key)."""

    __slots__ = ("value",)

    def __init__(self, value: K) -> None:
        self.value = value


class _Pass(Generic[K]):
    __slots__ = ("began", "clock", "count", "left", "on_over")

    def __init__(
        self, left: set[K], count: int, began: float, clock: Callable[[], float], on_over: Callable[[int, float], None]
    ) -> None:
        self.left, self.count, self.began, self.clock, self.on_over = left, count, began, clock, on_over

    def saw(self, key: K) -> bool:
        """Count ``key`` as looked at; whether that was the last one."""
        self.left.discard(key)
        return not self.left
