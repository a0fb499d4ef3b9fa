"""Seconds from nothing to a ready local control plane (etcd, API server, controllers, scheduler).

Ready means: /readyz answers, the controller-manager and scheduler are healthy, and the
controllers have done their first work (the default ServiceAccount exists).

    PYTHONSAFEPATH=1 .venv/bin/python benchmarks/controlplane_start.py [--runs 3]
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from videojob_devenv.controlplane import ControlPlane


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    seconds = []
    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory(prefix="vj-bench-") as state:
            plane = ControlPlane(Path(state))
            ready = plane.start()
            began = time.monotonic()
            plane.stop()
            print(f"run {run}: ready in {ready:.2f}s, stopped in {time.monotonic() - began:.2f}s", flush=True)
            seconds.append(ready)
    print(
        f"control plane start: median {statistics.median(seconds):.2f}s, min {min(seconds):.2f}s, "
        f"max {max(seconds):.2f}s over {len(seconds)} runs"
    )


if __name__ == "__main__":
    main()
