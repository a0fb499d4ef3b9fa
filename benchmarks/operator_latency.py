"""Latency from VideoJob creation to renderer Job creation, over 200 sequential VideoJobs (p50, p99).

Measured from just before the create call to the moment the Job's ADDED watch event
reaches this process, so it includes both API round trips. Goal: p50 <= 100 ms, p99 <= 500 ms.

    PYTHONSAFEPATH=1 .venv/bin/python -P benchmarks/operator_latency.py [--count 200]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # -P leaves the script's folder off sys.path

from operator_harness import JobWatcher, operator_on_local_cluster, videojob, warm_up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    with operator_on_local_cluster() as bench:
        watcher = JobWatcher(bench.api)
        watcher.start()
        warm_up(bench, watcher)
        latencies = []
        for index in range(args.count):
            name = f"latency-{index:04d}"
            began = time.monotonic()
            bench.create(videojob(name))
            arrived = watcher.wait_name(name, 30)
            if arrived is None:
                raise SystemExit(f"{name}: no Job within 30 s")
            latencies.append((arrived - began) * 1000)
        latencies.sort()
        p50 = statistics.median(latencies)
        p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
        print(
            f"creation -> Job over {len(latencies)} sequential VideoJobs: p50 {p50:.0f} ms, p99 {p99:.0f} ms, "
            f"max {latencies[-1]:.0f} ms (goal: p50 <= 100 ms, p99 <= 500 ms)"
        )
        watcher.stopping.set()


if __name__ == "__main__":
    main()
