"""The operator's work queue: what its workers are handed, when, and how often."""

from __future__ import annotations

import asyncio

import pytest

from videojob.operator.workqueue import ExponentialBackoff, WorkQueue


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 5))


async def take(queue: WorkQueue[str]) -> str:
    key = await queue.get()
    assert key is not None, "the queue shut down"
    return key


async def drain(queue: WorkQueue[str]) -> list[str]:
    """Every key available right now, each marked done."""
    keys = []
    while len(queue):
        key = await take(queue)
        keys.append(key)
        queue.done(key)
    return keys


def test_many_adds_of_a_waiting_key_hand_it_out_once_in_first_added_order():
    async def main():
        queue: WorkQueue[str] = WorkQueue()
        for key in ("a", "b", "a", "c", "b", "a"):
            queue.add(key)
        return await drain(queue)

    assert run(main()) == ["a", "b", "c"]


def test_a_key_added_while_it_is_processed_is_handed_out_again_once_after_done():
    async def main():
        queue: WorkQueue[str] = WorkQueue()
        queue.add("a")
        first = await take(queue)
        queue.add("a")
        queue.add("a")
        during = len(queue)  # not handed to a second worker while the first holds it
        queue.done(first)
        return during, await drain(queue)

    assert run(main()) == (0, ["a"])


def test_no_two_workers_ever_hold_the_same_key():
    holding: set[str] = set()
    overlaps = []
    handled = []

    async def worker(queue: WorkQueue[str]) -> None:
        while (key := await queue.get()) is not None:
            if key in holding:
                overlaps.append(key)
            holding.add(key)
            await asyncio.sleep(0.002)
            holding.discard(key)
            handled.append(key)
            queue.done(key)

    async def main():
        queue: WorkQueue[str] = WorkQueue()
        workers = [asyncio.create_task(worker(queue)) for _ in range(8)]
        for round_ in range(20):
            for key in ("a", "b", "c"):
                queue.add(key)
            await asyncio.sleep(0.001 * (round_ % 3))
        while len(queue) or holding:
            await asyncio.sleep(0.01)
        queue.shutdown()
        await asyncio.gather(*workers)

    run(main())
    assert overlaps == []
    assert set(handled) == {"a", "b", "c"} and len(handled) < 60  # coalesced, yet each seen


def test_add_after_waits_and_the_earliest_of_several_delays_wins():
    async def main():
        queue: WorkQueue[str] = WorkQueue()
        loop = asyncio.get_running_loop()
        began = loop.time()
        queue.add_after("a", 0.5)
        queue.add_after("a", 0.1)
        queue.add_after("a", 0.3)
        assert len(queue) == 0
        key = await take(queue)
        waited = loop.time() - began
        queue.done(key)
        await asyncio.sleep(0.5)
        return key, waited, len(queue)

    key, waited, left = run(main())
    assert key == "a" and 0.09 <= waited < 0.3
    assert left == 0  # the later delays were dropped, not queued again


def test_rate_limited_adds_back_off_exponentially_until_forgotten():
    async def main():
        queue: WorkQueue[str] = WorkQueue(ExponentialBackoff(base=0.01, cap=0.05))
        delays = [queue.add_rate_limited("a") for _ in range(5)]
        requeues = queue.num_requeues("a")
        queue.forget("a")
        return delays, requeues, queue.add_rate_limited("a"), queue.add_rate_limited("b", base=0.02)

    delays, requeues, after_forget, own_base = run(main())
    assert delays == [0.01, 0.02, 0.04, 0.05, 0.05]
    assert requeues == 5
    assert after_forget == 0.01 and own_base == 0.02


def test_the_default_backoff_is_the_operators_retry_schedule():
    backoff = ExponentialBackoff()
    assert [backoff.delay(n) for n in range(1, 8)] == [4, 8, 16, 32, 60, 60, 60]
    assert [backoff.delay(n, base=10) for n in range(1, 5)] == [10, 20, 40, 60]


def test_shutdown_releases_waiting_workers_and_ignores_later_adds():
    async def main():
        queue: WorkQueue[str] = WorkQueue()
        waiting = asyncio.create_task(queue.get())
        await asyncio.sleep(0)
        queue.add_after("late", 0.05)
        queue.shutdown()
        queue.add("a")
        await asyncio.sleep(0.1)
        return await waiting, await queue.get(), len(queue)

    assert run(main()) == (None, None, 0)


def test_a_worker_cancelled_after_being_woken_leaves_the_key_to_another():
    async def main():
        queue: WorkQueue[str] = WorkQueue()
        first = asyncio.create_task(queue.get())
        second = asyncio.create_task(queue.get())
        await asyncio.sleep(0)
        queue.add("a")
        first.cancel()  # woken for "a", but cancelled before it could take it
        with pytest.raises(asyncio.CancelledError):
            await first
        return await second

    assert run(main()) == "a"
