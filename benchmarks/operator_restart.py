"""The restart phase of benchmarks/operator_10k.py: an operator restarted with every VideoJob in the cluster.

Not a benchmark itself. Each restart stops the operator, creates a VideoJob while none
runs, starts it again (this tree's code, or a baseline commit's: operator_harness.py),
creates a second VideoJob the moment it is live, and times, from the new process's start:

- live: its health endpoint answers (what a Deployment's liveness probe waits for);
- each new VideoJob's renderer Job: what a user who submits during a restart waits for;
- the first pass: the operator has reconciled as many times as there are VideoJobs (the
  starting commit's figure, counted from outside), and the operator's own report of its
  first pass over every VideoJob, where it has one (``videojob_operator_first_pass_*``);

with the operator's CPU and API requests until then, the creates the API server refused
meanwhile (409: the name was taken) and the load average.
"""

from __future__ import annotations

import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from operator_harness import NAMESPACE, Bench, JobWatcher, OperatorVariant, requests_per_videojob, videojob
from prometheus_client.parser import text_string_to_metric_families

FIRST_PASS_TIMEOUT = 1200.0  # benchmarks/operator_10k.py --restart-timeout


def refused_creates_by_kind(bench: Bench) -> dict[str, float]:
    """The API server's own count of creates it refused, by ``resource code``, from every client."""
    text = bench.plane.kubectl("get", "--raw", "/metrics").stdout
    refused: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name != "apiserver_request":
            continue
        for sample in family.samples:
            labels = sample.labels
            if sample.name.endswith("_total") and labels.get("verb") == "POST" and labels.get("code", "2")[0] != "2":
                key = f"{labels.get('resource')} {labels.get('code')}"
                refused[key] = refused.get(key, 0) + sample.value
    return refused


def refused_since(before: dict[str, float], after: dict[str, float]) -> str:
    changed = {key: value - before.get(key, 0) for key, value in after.items() if value - before.get(key, 0)}
    return ", ".join(f"{key}: {count:.0f}" for key, count in sorted(changed.items())) or "none"


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def wait_pods_running(bench: Bench, count: int, timeout: float) -> float:
    """Wait until ``count`` renderer Pods run (kwok marks them so after the scheduler binds them, minutes after a
    10,000 burst on a loaded machine): a restart is measured in a cluster at rest. The seconds waited."""
    began = time.monotonic()
    running = 0
    while time.monotonic() - began < timeout:
        listed = bench.plane.kubectl(
            "get", "pods", "-n", NAMESPACE, "--field-selector=status.phase=Running", "-o", "name", timeout=120
        )
        running = len(listed.stdout.split())
        if running >= count:
            return time.monotonic() - began
        time.sleep(5)
    print(f"only {running} of {count} Pods running after {timeout:.0f} s: restarting anyway", flush=True)
    return time.monotonic() - began


def own_first_pass(bench: Bench) -> tuple[float, float, float] | None:
    """(seconds, VideoJobs, seconds until its lists were in) of the operator's own first-pass report, once it has
    one."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{bench.metrics_port}/metrics", timeout=10).read().decode()
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name.startswith("videojob_operator_first_pass_"):
            found[family.name] = family.samples[0].value if family.samples else 0.0
    seconds = found.get("videojob_operator_first_pass_seconds", 0.0)
    listed = found.get("videojob_operator_first_pass_listed_seconds", 0.0)
    return (seconds, found.get("videojob_operator_first_pass_videojobs", 0.0), listed) if seconds > 0 else None


@dataclass
class RestartFigures:
    variant: str
    live: float  # seconds from the process's start until its health endpoint answers
    job_of_one_made_while_down: float  # seconds from the start until that VideoJob's renderer Job exists
    job_of_one_made_once_live: float  # seconds from its create until its Job exists
    first_pass: float  # seconds from the start until the operator has reconciled once per VideoJob
    own_first_pass: tuple[float, float, float] | None  # the operator's own report: seconds, VideoJobs, listed after
    cpu: float  # the operator's CPU seconds until then
    rss: float  # its resident memory then, MiB
    requests: str
    refused: str
    load: str


def restart(
    bench: Bench,
    watcher: JobWatcher,
    variant: OperatorVariant,
    videojobs: int,
    tag: str,
    profile: Path | None = None,
    timeout: float = FIRST_PASS_TIMEOUT,
) -> RestartFigures:
    """Restart into ``variant`` with ``videojobs`` VideoJobs present (two more are made here); a figure not
    reached within ``timeout`` seconds of the start is given as that many (printed ">N")."""
    refused_before = refused_creates_by_kind(bench)
    while_down, once_live = f"restart-{tag}-down", f"restart-{tag}-live"
    started: list[float] = []

    def create_while_down() -> None:
        bench.create(videojob(while_down))
        started.append(time.monotonic())

    live = bench.restart_operator(env=variant.environment(profile), between=create_while_down)
    bench.create(videojob(once_live))
    created_once_live = time.monotonic()
    requests_before: dict[str, float] = {}  # the new process's counters start from 0
    total = videojobs + 2
    deadline = started[0] + timeout
    first_pass: float | None = None
    own: tuple[float, float, float] | None = None
    cpu, rss, requests = 0.0, 0.0, ""
    while time.monotonic() < deadline and (first_pass is None or own is None):
        counts = bench.operator_requests()
        if first_pass is None and counts.get("reconciles", 0.0) >= total:
            first_pass = time.monotonic() - started[0]
            cpu, rss = bench.operator_cpu_seconds(), bench.operator_rss_mib()[0]
            requests = requests_per_videojob(requests_before, counts, total)
        if own is None:
            own = own_first_pass(bench)
        if first_pass is not None and own is None and time.monotonic() - started[0] > first_pass + 5:
            break  # the baseline reports none
        time.sleep(0.25)
    if first_pass is None:
        print(f"{variant.name}: fewer than {total} reconciles within {timeout:.0f} s", flush=True)
        cpu, rss = bench.operator_cpu_seconds(), bench.operator_rss_mib()[0]
        requests = requests_per_videojob(requests_before, bench.operator_requests(), total)
    down_job = watcher.wait_name(while_down, max(1.0, deadline - time.monotonic()))
    live_job = watcher.wait_name(once_live, max(1.0, deadline - time.monotonic()))
    return RestartFigures(
        variant=variant.name,
        live=live,
        job_of_one_made_while_down=down_job - started[0] if down_job is not None else timeout,
        job_of_one_made_once_live=live_job - created_once_live if live_job is not None else timeout,
        first_pass=first_pass if first_pass is not None else timeout,
        own_first_pass=own,
        cpu=cpu,
        rss=rss,
        requests=requests,
        refused=refused_since(refused_before, refused_creates_by_kind(bench)),
        load=load_average(),
    )


def print_restarts(figures: list[RestartFigures], videojobs: int) -> None:
    print(f"operator restarted with {videojobs} VideoJobs present; seconds from the new process's start:")
    print(
        f"{'operator':>18}{'live':>7}{'Job of one made':>17}{'... once live':>15}{'first pass':>12}"
        f"{'own: lists+pass':>16}{'CPU s':>8}{'RSS MiB':>9}  load after  refused creates"
    )
    for run in figures:
        own = (
            f"{run.own_first_pass[2]:.1f}+{run.own_first_pass[0] - run.own_first_pass[2]:.1f}"
            if run.own_first_pass
            else "none"
        )
        print(
            f"{run.variant:>18}{run.live:>7.1f}{run.job_of_one_made_while_down:>17.1f}"
            f"{run.job_of_one_made_once_live:>15.1f}{run.first_pass:>12.1f}{own:>16}{run.cpu:>8.1f}{run.rss:>9.0f}  "
            f"{run.load:<11} {run.refused}",
            flush=True,
        )
    for run in figures:
        print(f"  {run.variant}: API requests per VideoJob until the first pass: {run.requests}", flush=True)
