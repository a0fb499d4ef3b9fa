"""A burst of 1,000 VideoJobs: seconds until every renderer Job exists; then the operator's memory.

Prints (b) the burst time (goal <= 30 s) and (c) the operator's resident memory with the
1,000 VideoJobs present (goal <= 200 MiB), measured after their statuses settle.

    PYTHONSAFEPATH=1 .venv/bin/python -P benchmarks/operator_burst.py [--count 1000] [--workers 16]
"""

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # -P leaves the script's folder off sys.path

from operator_harness import JobWatcher, operator_on_local_cluster, videojob, warm_up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--settle", type=float, default=30.0, help="seconds to wait before reading memory")
    args = parser.parse_args()
    with operator_on_local_cluster() as bench:
        watcher = JobWatcher(bench.api)
        watcher.start()
        warm_up(bench, watcher)
        rss_idle, _ = bench.operator_rss_mib()
        cpu_before = bench.operator_cpu_seconds()
        began = time.monotonic()
        with ThreadPoolExecutor(args.workers) as pool:
            list(pool.map(lambda i: bench.create(videojob(f"burst-{i:04d}")), range(args.count)))
        created = time.monotonic() - began
        if not watcher.wait_for(args.count + 1, 600):
            raise SystemExit(f"only {len(watcher.seen) - 1} of {args.count} Jobs within 600 s")
        burst = max(watcher.seen.values()) - began
        print(
            f"burst of {args.count} VideoJobs: created in {created:.1f}s, "
            f"every Job existed after {burst:.1f}s (goal <= 30 s); "
            f"operator CPU during the burst {bench.operator_cpu_seconds() - cpu_before:.1f}s",
            flush=True,
        )
        time.sleep(args.settle)
        rss, peak = bench.operator_rss_mib()
        print(
            f"operator memory with {args.count + 1} VideoJobs: RSS {rss:.0f} MiB "
            f"(idle before the burst {rss_idle:.0f} MiB, "
            f"peak {peak:.0f} MiB; goal <= 200 MiB)"
        )
        watcher.stopping.set()


if __name__ == "__main__":
    main()
