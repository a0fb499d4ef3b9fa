"""What one cache-retention sweep (operator/cache_expiry.py) costs at 10,000 and 100,000 cache objects.

    PYTHONSAFEPATH=1 .venv/bin/python -P benchmarks/cache_sweep.py [--objects 10000,100000] [--repeat 3]

For each size a fresh MinIO (the dev environment's, source-built) is filled with that many objects
in the renderer's layout (``cache/scenes/<key>/``: scene.mp4, speech.wav, last_frame.png and
manifest.json, tiny: a sweep's cost is in the keys, not the bytes), twice: under ``cache/`` and
under ``twin/``. Then, side by side in the same run:

- **keeping sweep** (retention 30 days, nothing is old enough: the sweep of every period) against
  the baseline **bare listing** (the MinIO client iterating the same prefix, doing nothing else:
  the least any sweep of the prefix can cost). Runs alternate, ``--repeat`` times each.
- **removing sweep** (every entry past a 1 s retention, so it lists and removes all of them) of
  ``cache/`` against the baseline **bare list + delete** of ``twin/`` (the same listing, then
  ``remove_objects`` of every name, in the client's 1,000-key requests), once each.

Each line: wall seconds, CPU seconds of the thread that did the work, and the event loop's lag
while the work ran in a thread beside it (a 10 ms ticker: its p99 and worst extra delay; the
operator runs the sweep exactly so, with ``asyncio.to_thread``). An idle loop's lag is printed
as the floor. Then the peak Python memory of one keeping sweep (tracemalloc, a separate pass).
The load average is printed with each size: wall figures on a shared machine are noisy, CPU
seconds much less so. Not a test: it prints its figures.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import os
import shutil
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from minio.deleteobjects import DeleteObject

from videojob.operator.cache_expiry import CacheSweeper
from videojob_devenv.minio import MinioServer

FILES = ("last_frame.png", "manifest.json", "scene.mp4", "speech.wav")
MONTH = 30 * 86400.0
TICK = 0.01


def fill(client: Any, bucket: str, prefix: str, objects: int) -> float:
    """``objects`` tiny objects as scene entries under ``prefix``; the seconds it took."""
    started = time.monotonic()
    names = [
        f"{prefix}scenes/{hashlib.sha256(str(n).encode()).hexdigest()}/{name}"
        for n in range(objects // len(FILES))
        for name in FILES
    ]

    def put(name: str) -> None:
        client.put_object(bucket, name, io.BytesIO(b"x"), 1)

    with ThreadPoolExecutor(32) as pool:
        for _ in pool.map(put, names, chunksize=64):
            pass
    return time.monotonic() - started


def bare_listing(client: Any, bucket: str, prefix: str) -> int:
    return sum(1 for _ in client.list_objects(bucket, prefix=prefix, recursive=True))


def bare_list_and_delete(client: Any, bucket: str, prefix: str) -> int:
    names = [item.object_name for item in client.list_objects(bucket, prefix=prefix, recursive=True)]
    errors = list(client.remove_objects(bucket, (DeleteObject(name) for name in names)))
    assert not errors, errors[:3]
    return len(names)


def measured(work: Callable[[], Any]) -> dict[str, Any]:
    """``work`` in a thread beside an event loop ticking every 10 ms: wall, the thread's CPU, the loop's lag."""

    def timed() -> tuple[Any, float, float]:
        started, cpu = time.monotonic(), time.thread_time()
        answer = work()
        return answer, time.monotonic() - started, time.thread_time() - cpu

    async def run() -> dict[str, Any]:
        lags: list[float] = []
        task = asyncio.create_task(asyncio.to_thread(timed))
        while not task.done():
            before = time.perf_counter()
            await asyncio.sleep(TICK)
            lags.append(time.perf_counter() - before - TICK)
        answer, wall, cpu = task.result()
        return {"answer": answer, "wall": wall, "cpu": cpu, "lags": lags}

    return asyncio.run(run())


def idle_lag(seconds: float) -> list[float]:
    return measured(lambda: time.sleep(seconds))["lags"]


def lag_text(lags: list[float]) -> str:
    ordered = sorted(lags)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0
    return f"loop lag p99 {p99 * 1000:5.1f} ms, worst {max(ordered, default=0.0) * 1000:6.1f} ms"


def line(label: str, runs: list[dict[str, Any]]) -> str:
    walls, cpus = [run["wall"] for run in runs], [run["cpu"] for run in runs]
    lags = [lag for run in runs for lag in run["lags"]]
    spread = f" ({min(walls):.2f}-{max(walls):.2f})" if len(runs) > 1 else ""
    return (
        f"  {label:<34} wall {statistics.median(walls):6.2f} s{spread:<14}  "
        f"CPU {statistics.median(cpus):6.2f} s   {lag_text(lags)}"
    )


def one_size(objects: int, repeat: int, scratch: Path) -> None:
    data = scratch / f"minio-{objects}"
    server = MinioServer(data)
    server.start()
    try:
        client, bucket = server.client(), server.bucket
        seconds = fill(client, bucket, "cache/", objects) + fill(client, bucket, "twin/", objects)
        print(
            f"\n{objects:,} objects under cache/ (and as many under twin/), filled in {seconds:.0f} s; "
            f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
        )
        print(f"  {'idle loop (the floor)':<34} {'':<45}{lag_text(idle_lag(1.0))}")
        keeping = CacheSweeper(client, bucket, MONTH)
        listings, sweeps = [], []
        for _ in range(repeat):
            listings.append(measured(lambda: bare_listing(client, bucket, "cache/")))
            sweeps.append(measured(keeping.sweep))
        assert all(run["answer"] == objects for run in listings)
        assert all(run["answer"].listed == objects and run["answer"].removed_objects == 0 for run in sweeps)
        print(line("bare listing (baseline)", listings))
        print(line("keeping sweep", sweeps))
        per_object = statistics.median(run["cpu"] for run in sweeps) / objects * 1e6
        print(f"  {'':<34} keeping sweep: {per_object:.1f} µs CPU per object, {objects // len(FILES):,} entries")

        tracemalloc.start()
        keeping.sweep()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"  {'':<34} peak Python memory of a keeping sweep: {peak / 2**20:.1f} MiB")

        time.sleep(1.5)  # every entry older than the removing sweep's 1 s
        deleting = measured(lambda: bare_list_and_delete(client, bucket, "twin/"))
        removing = measured(CacheSweeper(client, bucket, 1.0).sweep)
        assert deleting["answer"] == objects
        assert removing["answer"].removed_objects == objects and removing["answer"].failed_objects == 0
        assert bare_listing(client, bucket, "cache/") == 0
        print(line("bare list + delete (baseline)", [deleting]))
        print(line("removing sweep", [removing]))
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)  # MinIO's own bookkeeping of 200,000 objects: a minute to remove


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objects", default="10000,100000", help="comma-separated object counts")
    parser.add_argument("--repeat", type=int, default=3, help="keeping sweeps and bare listings, alternating")
    arguments = parser.parse_args()
    print(f"cache sweep benchmark: {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="cache-sweep-") as scratch:
        for objects in (int(text) for text in arguments.objects.split(",")):
            one_size(objects, arguments.repeat, Path(scratch))


if __name__ == "__main__":
    main()
