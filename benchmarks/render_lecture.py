"""Wall seconds per second of video for the example lecture: low and medium quality, cold and cached.

    PYTHONSAFEPATH=1 .venv/bin/python -P benchmarks/render_lecture.py [--lecture examples/lecture.md]

Each figure is one `videojob render` run as a user would start it (process start-up
included), on an empty scene cache ("cold") and then again on the cache the cold run
filled ("cached"). CPU seconds (the render and all its workers) are printed too: on a
shared machine they say more than wall time. Not a test: it prints its figures.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from videojob.contract import Result
from videojob_devenv import REPO_ROOT

VIDEOJOB = Path(sys.executable).parent / "videojob"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def render(lecture: Path, quality: str, work: Path, label: str) -> tuple[float, float, Result]:
    termination = work / f"{label}.json"
    env = {
        **os.environ,
        "PYTHONSAFEPATH": "1",
        "VIDEOJOB_TERMINATION_LOG": str(termination),
        "VIDEOJOB_CACHE": f"file://{work / 'cache'}",
        "VIDEOJOB_OUTPUT": f"file://{work / 'out'}",
        "VIDEOJOB_QUALITY": quality,
        "VIDEOJOB_PROGRESS": "none",
    }
    env.pop("OPENAI_API_KEY", None)
    started, cpu_started = time.monotonic(), _children_cpu()
    subprocess.run([str(VIDEOJOB), "render", str(lecture)], env=env, check=True, stdout=subprocess.DEVNULL)
    wall, cpu = time.monotonic() - started, _children_cpu() - cpu_started
    return wall, cpu, Result.model_validate_json(termination.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lecture", type=Path, default=REPO_ROOT / "examples" / "lecture.md")
    parser.add_argument("--qualities", default="low,medium")
    arguments = parser.parse_args()
    print(
        f"lecture: {arguments.lecture.relative_to(REPO_ROOT)}   cpus: {len(os.sched_getaffinity(0))}   "
        f"load average before: {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'quality':<8} {'run':<7} {'video s':>8} {'wall s':>7} {'wall s / video s':>17} {'cpu s':>6} "
        f"{'cpu s / video s':>16} {'rendered':>9}"
    )
    for quality in arguments.qualities.split(","):
        with tempfile.TemporaryDirectory(prefix=f"bench-{quality}-") as scratch:
            for label in ("cold", "cached"):
                wall, cpu, result = render(arguments.lecture, quality, Path(scratch), label)
                video = result.output.duration_seconds
                print(
                    f"{quality:<8} {label:<7} {video:8.1f} {wall:7.2f} {wall / video:17.3f} {cpu:6.1f} "
                    f"{cpu / video:16.3f} {result.usage.scenes_rendered:>9}"
                )


if __name__ == "__main__":
    main()
