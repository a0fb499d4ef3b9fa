"""Wall seconds per second of video for the example lecture, this tree against a baseline commit.

    PYTHONSAFEPATH=1 .venv/bin/python -P benchmarks/render_lecture.py [--baseline REV] [--current REV]
        [--repeat N] [--voice CHAIN] [--lecture examples/lecture.md] [--qualities low,medium]
        [--session-nice -10]

Each figure is one `videojob render` run as a user would start it (process start-up
included), on an empty scene cache ("cold") and then again on the cache the cold run
filled ("cached"). The baseline is the renderer of another commit (default: the previous
one, HEAD~1), unpacked from git into a scratch folder and run from there with this
environment's packages; so is --current when given (default: this working tree). Their
runs alternate, so both see the same load
on a shared machine, and with --repeat the median of N runs is shown. CPU seconds (the
render and all its workers) are printed too: on a shared machine they say more than wall
time. The video lengths differ when the voices do: compare the per-second columns; --voice
makes both speak with one chain (VIDEOJOB_VOICE). On a busy shared machine, run it under
``nice -n -10`` to bring the figures nearer an idle machine's, and repeat: single runs vary
by a third there. Not a test: it prints its figures.

Two figures say where the wall time goes, whatever the load: "drawing at" is when the
first scene was handed to the scene workers (its narration and Manim's import done: the
critical path's start), "drawn at" when the last scene was drawn (then assembly and
upload). On Linux the scheduler shares the CPU between sessions (autogroups), not between
processes, so ``nice`` alone does little against other sessions' work: ``--session-nice -10``
raises this session's share instead (root only), for runs on a machine others are using.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from videojob.contract import Result
from videojob_devenv import REPO_ROOT

# The product's folders and the package each installs as (pyproject's package-dir).
PACKAGE_DIRS = {"videojob": "videojob", "renderer": "videojob/renderer", "operator": "videojob/operator"}
RUN_CLI = "import sys; from videojob.renderer.cli import main; sys.exit(main())"


@dataclass(frozen=True)
class Renderer:
    """One version of the renderer: a label and the PYTHONPATH that imports it ("" for this tree)."""

    label: str
    python_path: str


@dataclass(frozen=True)
class Figures:
    video_seconds: float
    wall: float
    cpu: float
    rendered: int
    drawing_at: float  # seconds from the start until the first scene went to the scene workers (nan: none)
    drawn_at: float  # seconds from the start until the last scene was drawn (nan: none)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def unpack(revision: str, into: Path) -> Renderer:
    """``revision``'s product packages laid out under ``into`` as they install, for PYTHONPATH."""
    commit = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", revision], capture_output=True, text=True, check=True
    ).stdout.strip()
    tree = into / "tree"
    tree.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "archive", commit, *PACKAGE_DIRS], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    packages = into / "packages"
    for folder, package in PACKAGE_DIRS.items():
        (packages / package).parent.mkdir(parents=True, exist_ok=True)
        (tree / folder).rename(packages / package)
    return Renderer(f"{revision} ({commit})", str(packages))


def render(renderer: Renderer, lecture: Path, quality: str, voice: str | None, work: Path, label: str) -> Figures:
    termination = work / f"{label}.json"
    env = {
        **os.environ,
        "PYTHONSAFEPATH": "1",
        "VIDEOJOB_TERMINATION_LOG": str(termination),
        "VIDEOJOB_CACHE": f"file://{work / 'cache'}",
        "VIDEOJOB_OUTPUT": f"file://{work / 'out'}",
        "VIDEOJOB_QUALITY": quality,
        "VIDEOJOB_PROGRESS": "json",
    }
    env.pop("OPENAI_API_KEY", None)
    if voice:
        env["VIDEOJOB_VOICE"] = voice
    if renderer.python_path:  # found before the editable install of this tree (a meta-path finder, tried last)
        env["PYTHONPATH"] = renderer.python_path
    started, cpu_started = time.monotonic(), _children_cpu()
    command = [sys.executable, "-P", "-c", RUN_CLI, "render", str(lecture)]
    drawing_at = drawn_at = math.nan
    log = work / f"{label}.log"  # the CLI's own lines (its summary among them), shown only if it fails
    with (
        log.open("w") as errors,
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=errors, text=True, cwd=work) as run,
    ):
        assert run.stdout is not None
        for line in run.stdout:  # the progress events, as the operator reads them
            stage = json.loads(line).get("stage", "")
            if stage.startswith("Rendering ") and " of " in stage and math.isnan(drawing_at):
                drawing_at = time.monotonic() - started
            elif stage.startswith("Rendering scene "):
                drawn_at = time.monotonic() - started
    if run.returncode != 0:
        raise SystemExit(f"{renderer.label}: the render failed ({run.returncode}):\n{log.read_text()[-2000:]}")
    wall, cpu = time.monotonic() - started, _children_cpu() - cpu_started
    result = Result.model_validate_json(termination.read_text())
    figures = result.output.duration_seconds, wall, cpu, result.usage.scenes_rendered
    return Figures(*figures, drawing_at, drawn_at)


def median(runs: list[Figures]) -> Figures:
    return Figures(
        statistics.median(run.video_seconds for run in runs),
        statistics.median(run.wall for run in runs),
        statistics.median(run.cpu for run in runs),
        runs[0].rendered,
        statistics.median(run.drawing_at for run in runs),
        statistics.median(run.drawn_at for run in runs),
    )


def raise_session_share(nice: int) -> None:
    """Give this session's autogroup (this process, its renders and whatever else the session runs)
    the nice value ``nice``: Linux with autogroups, root for a negative one."""
    Path("/proc/self/autogroup").write_text(f"{nice}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lecture", type=Path, default=REPO_ROOT / "examples" / "lecture.md")
    parser.add_argument("--qualities", default="low,medium")
    parser.add_argument("--baseline", default="HEAD~1", help="the commit to compare with (default: HEAD~1)")
    parser.add_argument("--current", default=None, help="a commit to measure instead of this working tree")
    parser.add_argument("--voice", default=None, help="the voice chain both speak with (default: each its own)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each, alternating; the median is shown")
    parser.add_argument("--session-nice", type=int, default=None, help="this session's autogroup nice (-20..19)")
    arguments = parser.parse_args()
    if arguments.session_nice is not None:
        raise_session_share(arguments.session_nice)
    lecture = arguments.lecture.resolve()
    with tempfile.TemporaryDirectory(prefix="bench-revisions-") as unpacked:
        renderers = [unpack(arguments.baseline, Path(unpacked) / "baseline")]
        if arguments.current:
            renderers.append(unpack(arguments.current, Path(unpacked) / "current"))
        else:
            renderers.append(Renderer("this tree", ""))
        print(
            f"lecture: {lecture.relative_to(REPO_ROOT)}   cpus: {len(os.sched_getaffinity(0))}   "
            f"load average before: {os.getloadavg()[0]:.1f}   runs of each: {arguments.repeat}   "
            f"voice: {arguments.voice or 'each its default'}   session nice: {arguments.session_nice}"
        )
        print(
            f"{'renderer':<22} {'quality':<8} {'run':<7} {'video s':>8} {'wall s':>7} {'wall s / video s':>17} "
            f"{'cpu s':>6} {'cpu s / video s':>16} {'rendered':>9} {'drawing at':>11} {'drawn at':>9}"
        )
        for quality in arguments.qualities.split(","):
            runs: dict[tuple[str, str], list[Figures]] = {}
            for attempt in range(arguments.repeat):
                for renderer in renderers:
                    with tempfile.TemporaryDirectory(prefix=f"bench-{quality}-") as scratch:
                        for label in ("cold", "cached"):
                            figures = render(
                                renderer, lecture, quality, arguments.voice, Path(scratch), f"{label}-{attempt}"
                            )
                            runs.setdefault((renderer.label, label), []).append(figures)
            for (name, label), measured in runs.items():
                figures = median(measured)
                video = figures.video_seconds
                print(
                    f"{name:<22} {quality:<8} {label:<7} {video:8.1f} {figures.wall:7.2f} "
                    f"{figures.wall / video:17.3f} {figures.cpu:6.1f} {figures.cpu / video:16.3f} "
                    f"{figures.rendered:>9} {figures.drawing_at:11.2f} {figures.drawn_at:9.2f}"
                )
        print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
