"""Seconds to a Ready local node, to load the base image into it, and to get a Pod's output.

Ready means the kubelet registered `videojob-node` with the Ready condition True (containerd
started and the pause image imported first). "Image load" is `ctr images import` of the base
image archive into a fresh containerd; "first Pod" is create to `kubectl logs` of a Pod on the
base image. Image builds are not timed here: `hack/images/build` prints its own figures.

    PYTHONSAFEPATH=1 .venv/bin/python -P benchmarks/node_start.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from videojob_devenv import images
from videojob_devenv.controlplane import ControlPlane
from videojob_devenv.node import Node
from videojob_devenv.processes import wait_for


def first_pod(plane: ControlPlane, image: images.Image) -> float:
    began = time.monotonic()
    plane.kubectl(
        "run",
        "bench",
        f"--image={image.ref}",
        "--image-pull-policy=IfNotPresent",
        "--restart=Never",
        "--",
        "echo",
        "ready",
    )

    def succeeded() -> bool:
        return plane.kubectl("get", "pod", "bench", "-o", "jsonpath={.status.phase}").stdout == "Succeeded"

    wait_for(succeeded, 120, interval=0.1, what="the benchmark pod")
    assert plane.kubectl("logs", "bench").stdout.strip() == "ready"
    return time.monotonic() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    base = images.base_image()
    print(f"base image {base.ref}: {base.size / 2**20:.0f} MiB archive", flush=True)
    figures: dict[str, list[float]] = {"node ready": [], "image load": [], "first pod": []}
    with tempfile.TemporaryDirectory(prefix="vj-bench-") as state:
        plane = ControlPlane(Path(state) / "plane")
        plane.start()
        try:
            for run in range(1, args.runs + 1):
                node = Node(plane, Path(state) / f"node-{run}")
                try:
                    figures["node ready"].append(node.start())
                    figures["image load"].append(node.load(base))
                    figures["first pod"].append(first_pod(plane, base))
                    plane.kubectl("delete", "pod", "bench", "--wait=false")
                finally:
                    node.stop()
                    plane.kubectl("delete", "node", node.name, "--wait=false", check=False)
                print(
                    f"run {run}: " + ", ".join(f"{name} {values[-1]:.2f}s" for name, values in figures.items()),
                    flush=True,
                )
        finally:
            plane.stop()
    for name, values in figures.items():
        print(
            f"{name}: median {statistics.median(values):.2f}s of {len(values)} "
            f"(min {min(values):.2f}s, max {max(values):.2f}s)"
        )


if __name__ == "__main__":
    main()
