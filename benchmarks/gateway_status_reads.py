"""Status reads through the gateway at a fixed rate: latency p50/p99 at 500 requests per second,
the gateway on one core. Goal: p99 <= 20 ms.

Open loop: each request is sent at its scheduled time whether or not earlier ones answered,
and its latency counts from that time, so a stall shows up in the tail instead of hiding it.

    PYTHONSAFEPATH=1 .venv/bin/python -P benchmarks/gateway_status_reads.py [--rate 500] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))  # -P leaves the script's folder off sys.path
from gateway_harness import Harness, gateway_harness, percentile

LECTURE = "# Tides\n\nThe moon pulls the sea.\n"


async def drive(harness: Harness, rate: float, seconds: float) -> None:
    headers = {"Authorization": f"Bearer {harness.key}"}
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(harness.url, headers=headers, connector=connector) as session:
        async with session.post("/v1/videos", json={"markdown": LECTURE, "quality": "low"}) as created:
            video_id = (await created.json())["id"]
        latencies: list[float] = []
        errors: dict[int, int] = {}

        async def one(scheduled: float, record: bool) -> None:
            try:
                async with session.get(f"/v1/videos/{video_id}") as response:
                    await response.read()
                    if response.status != 200:
                        errors[response.status] = errors.get(response.status, 0) + 1
            except aiohttp.ClientError:
                errors[-1] = errors.get(-1, 0) + 1
            if record:
                latencies.append(time.perf_counter() - scheduled)

        warmup = 3.0
        cpu_before = harness.cpu_seconds()
        start = time.perf_counter() + 0.1
        tasks = []
        total = int((seconds + warmup) * rate)
        for index in range(total):
            scheduled = start + index / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(scheduled, index / rate >= warmup)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
        cpu = (harness.cpu_seconds() - cpu_before) / elapsed
    print(
        f"status reads: {len(latencies)} measured at {rate:g}/s for {seconds:g} s (achieved {total / elapsed:.0f}/s), "
        f"errors {errors or 'none'}"
    )
    print(
        f"  latency p50 {percentile(latencies, 0.5) * 1000:.1f} ms, p90 {percentile(latencies, 0.9) * 1000:.1f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms"
    )
    print(f"  gateway RSS {harness.rss_mib():.0f} MiB, CPU {cpu * 100:.0f}% of its one core")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    with gateway_harness() as harness:
        print(f"gateway idle RSS {harness.rss_mib():.0f} MiB")
        asyncio.run(drive(harness, args.rate, args.seconds))


if __name__ == "__main__":
    main()
