"""A burst of 10,000 VideoJobs on a cluster of 100 kwok nodes: is the operator ever the bottleneck?

kwok (built by ``hack/tools.py``) plays 100 nodes: the scheduler binds the renderer Pods
to them and kwok marks them running, so the operator sees the Pod traffic of a real
cluster. Printed side by side, in the same run on the same cluster:

- the client: seconds a plain client (16 threads) needs to create the 10,000 VideoJobs;
- the operator: seconds from the first create until every renderer Job exists;
- their ratio (goal <= 1.2), the operator's CPU seconds, and its resident memory with
  every VideoJob present (goal <= 400 MiB), with the machine's load average;
- then the operator restarted with every VideoJob present (benchmarks/operator_restart.py):
  seconds until it is live, until a VideoJob created during the restart (and one created
  the moment it is live) has its renderer Job, and until its first pass over every
  VideoJob is over, with the creates the API server refused (409) meanwhile;
- then, idle (every Pod running, nothing changing), the operator's CPU per minute with its
  periodic resync on (``VIDEOJOB_RESYNC_SECONDS=60``) and off (``0``), side by side on the
  same cluster, the operator restarted for each and settled first (``--idle`` seconds each,
  ``--idle-rounds`` alternations): what the resync costs at this count.

``--baseline REV`` measures another commit's operator beside this tree's in the same run
(its packages unpacked by ``git archive``, imported through a ``sitecustomize``): the
restarts alternate between the two, and ``--bursts baseline,current`` splits the burst
between them. ``--profile FILE`` profiles every restarted operator with cProfile: the
event-loop thread into FILE.<variant>.<n>, the other threads into that file's .threads,
and prints the top functions of each by own time.

    PYTHONSAFEPATH=1 .venv/bin/python -P benchmarks/operator_10k.py [--count 10000] [--nodes 100] \
        [--baseline REV] [--bursts current] [--restarts 1] [--idle 130]
"""

from __future__ import annotations

import argparse
import json
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # -P leaves the script's folder off sys.path

from operator_harness import (
    JobWatcher,
    OperatorVariant,
    baseline_variant,
    operator_on_local_cluster,
    requests_per_videojob,
    videojob,
    warm_up,
)
from operator_restart import (
    load_average,
    print_restarts,
    refused_creates_by_kind,
    refused_since,
    restart,
    wait_pods_running,
)

from videojob_devenv.processes import Component

KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node"
PROFILE_HOOK = """\
import atexit, cProfile, os, pstats, threading
_profile = cProfile.Profile()
_threads = []
_run = threading.Thread.run

def _profiled_run(self):
    profile = cProfile.Profile()
    _threads.append(profile)
    profile.enable()
    try:
        _run(self)
    finally:
        profile.disable()

def _dump():
    target = os.environ["VIDEOJOB_BENCH_PROFILE"]
    _profile.dump_stats(target)
    if _threads:
        pstats.Stats(*_threads).dump_stats(target + ".threads")

threading.Thread.run = _profiled_run
_profile.enable()
atexit.register(_dump)
"""


def kwok_node(name: str) -> dict:
    capacity = {"cpu": "256", "memory": "2Ti", "pods": "110"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {KWOK_NODE_ANNOTATION: "fake"},
            "labels": {"kubernetes.io/hostname": name, "type": "kwok"},
        },
        "status": {"capacity": capacity, "allocatable": capacity},
    }


def start_kwok(kubeconfig: Path, log: Path) -> Component:
    binary = subprocess.run(
        [sys.executable, "hack/tools.py", "path", "kwok"], check=True, capture_output=True, text=True
    ).stdout.strip()
    kwok = Component(
        "kwok",
        [
            binary,
            f"--kubeconfig={kubeconfig}",
            f"--config={Path(__file__).resolve().parent / 'kwok_stages.yaml'}",
            f"--manage-nodes-with-annotation-selector={KWOK_NODE_ANNOTATION}=fake",
            "--cidr=10.0.0.0/12",  # room for 10,000 Pod IPs
            "--node-lease-duration-seconds=40",
        ],
        log,
    )
    kwok.start()
    return kwok


def wait_nodes_ready(bench, count: int, kwok_log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        nodes = json.loads(bench.plane.kubectl("get", "nodes", "-l", "type=kwok", "-o", "json").stdout)["items"]
        ready = sum(
            any(c["type"] == "Ready" and c["status"] == "True" for c in (n.get("status") or {}).get("conditions", []))
            for n in nodes
        )
        if ready >= count:
            return
        time.sleep(2)
    tail = "\n".join(kwok_log.read_text(errors="replace").splitlines()[-20:])
    raise SystemExit(f"only {ready} of {count} kwok nodes Ready within {timeout:.0f} s; kwok's log:\n{tail}")


@dataclass
class IdleSecond:
    cpu: float  # operator CPU seconds used in this second
    reconciles: float  # reconciles finished in it
    failed: float  # of which failed (retried with backoff)


def sample_idle(bench, seconds: float) -> list[IdleSecond]:
    """The operator's CPU and reconciles, second by second, while nothing happens."""
    samples: list[IdleSecond] = []
    cpu, counts = bench.operator_cpu_seconds(), bench.operator_requests()
    ticks = time.monotonic()
    for _ in range(int(seconds)):
        ticks += 1.0
        time.sleep(max(0.0, ticks - time.monotonic()))
        cpu_now, now = bench.operator_cpu_seconds(), bench.operator_requests()
        samples.append(
            IdleSecond(
                cpu_now - cpu,
                now.get("reconciles", 0.0) - counts.get("reconciles", 0.0),
                now.get("reconcile errors", 0.0) - counts.get("reconcile errors", 0.0),
            )
        )
        cpu, counts = cpu_now, now
    return samples


def runs(values: list[int]) -> str:
    """``0x12 2000 0x47``: a series with its repeats folded."""
    parts: list[str] = []
    for value in values:
        if parts and parts[-1].split("x")[0] == str(value):
            head, _, times = parts[-1].partition("x")
            parts[-1] = f"{head}x{int(times or 1) + 1}"
        else:
            parts.append(str(value))
    return " ".join(parts)


def wait_settled(bench, count: int, most_per_second: float, seconds_in_a_row: int = 5, timeout: float = 1200) -> float:
    """Wait until a restarted operator's first pass is over: it reconciled every VideoJob once (kopf hands it each
    listed one), then this many seconds in a row with at most ``most_per_second`` reconciles and no API request
    (the burst's tail too: the Job controller still making Pods, kwok running them). The seconds waited."""
    began, calm = time.monotonic(), 0
    counts = bench.operator_requests()
    while calm < seconds_in_a_row and time.monotonic() - began < timeout:
        time.sleep(1.0)
        now = bench.operator_requests()
        reconciles, before = now.get("reconciles", 0.0), counts.get("reconciles", 0.0)
        calls = sum(v - counts.get(k, 0.0) for k, v in now.items() if k not in ("reconciles", "reconcile errors"))
        # A reconcile of the first pass may still write a status; one of the resync's, with nothing changed, never.
        calm = calm + 1 if reconciles >= count and reconciles - before <= most_per_second and calls == 0 else 0
        counts = now
    before = counts.get("reconciles", 0.0)
    if calm < seconds_in_a_row:
        raise SystemExit(f"the restarted operator had not settled after {timeout:.0f} s ({before:.0f} reconciles)")
    return time.monotonic() - began


@dataclass
class IdleRun:
    resync: str  # the VIDEOJOB_RESYNC_SECONDS it ran with
    samples: list[IdleSecond]
    requests: str
    load: str

    def per_minute(self, values: Iterable[float]) -> float:
        return sum(values) * 60 / len(self.samples)


def idle_run(bench, resync: str, seconds: float, count: int) -> IdleRun:
    """Restart the operator with this resync period, let it settle, and sample it idle."""
    started = bench.restart_operator(VIDEOJOB_RESYNC_SECONDS=resync)
    waited = wait_settled(bench, count, most_per_second=count / 60 * 1.5 + 5)
    load = load_average()
    print(
        f"resync {resync} s: operator restarted in {started:.1f} s, settled after {waited:.0f} s; "
        f"idle for {seconds:.0f} s (load average {load}) ...",
        flush=True,
    )
    requests_before = bench.operator_requests()
    samples = sample_idle(bench, seconds)
    requests = requests_per_videojob(requests_before, bench.operator_requests(), 1)
    print(f"  reconciles in each second: {runs([round(s.reconciles) for s in samples])}", flush=True)
    return IdleRun(resync, samples, requests, load)


def measure_resync(bench, seconds: float, count: int, rounds: int) -> None:
    """The idle operator's CPU per minute with its resync on (60 s) and off (0), alternating, side by side."""
    if seconds <= 0:
        return
    results = [idle_run(bench, resync, seconds, count) for _ in range(rounds) for resync in ("60", "0")]
    print(f"idle with {count} VideoJobs (every Pod running), per minute:")
    print(
        f"{'resync':>8}{'CPU s':>8}{'reconciles':>12}{'busiest s':>11}{'failed':>8}  load before  API requests (total)"
    )
    for run in results:
        cpu = run.per_minute(s.cpu for s in run.samples)
        reconciles = run.per_minute(s.reconciles for s in run.samples)
        failed = run.per_minute(s.failed for s in run.samples)
        busiest = max(s.cpu for s in run.samples)
        print(
            f"{run.resync + ' s':>8}{cpu:>8.2f}{reconciles:>12.0f}{busiest:>11.2f}{failed:>8.0f}  {run.load}  "
            f"{run.requests.split(';')[0]}",
            flush=True,
        )
    on = [r for r in results if r.resync != "0"]
    off = [r for r in results if r.resync == "0"]
    cost = sum(r.per_minute(s.cpu for s in r.samples) for r in on) / len(on) - sum(
        r.per_minute(s.cpu for s in r.samples) for r in off
    ) / len(off)
    reconciles = sum(r.per_minute(s.reconciles for s in r.samples) for r in on) / len(on)
    print(
        f"the resync costs {cost:.2f} CPU s per minute ({cost / 60 * 100:.1f}% of one core; "
        f"{cost / max(reconciles, 1) * 1000:.2f} ms per reconcile)",
        flush=True,
    )


@dataclass
class Burst:
    operator: str
    size: int
    client: float  # seconds the client took to create the VideoJobs
    every_job: float  # seconds from the first create until every renderer Job existed
    cpu: float
    loop: float
    requests: str
    refused: str
    rss: float
    peak: float
    load: str


def burst(bench, watcher, operator: str, size: int, prefix: str, expected: int, args) -> Burst:
    """``size`` VideoJobs as fast as ``args.workers`` client threads create them; ``expected`` Jobs in all after."""
    cpu_before, loop_before = bench.operator_cpu_seconds(), bench.operator_loop_cpu_seconds()
    requests_before, refused_before = bench.operator_requests(), refused_creates_by_kind(bench)
    print(f"{operator}: a burst of {size} VideoJobs (load average before: {load_average()}) ...", flush=True)
    began = time.monotonic()
    with ThreadPoolExecutor(args.workers) as pool:
        list(pool.map(lambda i: bench.create(videojob(f"{prefix}{i:05d}")), range(size)))
    client = time.monotonic() - began
    if not watcher.wait_for(expected, 1800):
        raise SystemExit(f"only {len(watcher.seen)} of {expected} Jobs within 1800 s")
    every_job = max(watcher.seen.values()) - began
    cpu = bench.operator_cpu_seconds() - cpu_before
    loop = bench.operator_loop_cpu_seconds() - loop_before
    load = load_average()
    time.sleep(args.settle)
    rss, peak = bench.operator_rss_mib()
    return Burst(
        operator,
        size,
        client,
        every_job,
        cpu,
        loop,
        requests_per_videojob(requests_before, bench.operator_requests(), size),
        refused_since(refused_before, refused_creates_by_kind(bench)),
        rss,
        peak,
        load,
    )


def print_bursts(bursts: list[Burst], videojobs: int, nodes: int) -> None:
    print(f"bursts on {nodes} kwok nodes ({videojobs} VideoJobs in the end):")
    print(
        f"{'operator':>18}{'VideoJobs':>10}{'client s':>10}{'every Job s':>13}{'ratio':>7}{'CPU ms/VJ':>11}"
        f"{'loop ms/VJ':>12}{'RSS MiB':>9}{'peak':>6}  load after  refused creates"
    )
    for run in bursts:
        print(
            f"{run.operator:>18}{run.size:>10}{run.client:>10.1f}{run.every_job:>13.1f}"
            f"{run.every_job / run.client:>7.2f}{run.cpu * 1000 / run.size:>11.1f}{run.loop * 1000 / run.size:>12.1f}"
            f"{run.rss:>9.0f}{run.peak:>6.0f}  {run.load:<11} {run.refused}",
            flush=True,
        )
    for run in bursts:
        print(f"  {run.operator}: API requests per VideoJob: {run.requests}", flush=True)
    print("goals: ratio <= 1.2; RSS <= 400 MiB at 10,000", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="VideoJobs in all, the warm-up included")
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--settle", type=float, default=30.0, help="seconds to wait after a burst, before its memory")
    parser.add_argument("--baseline", help="a commit whose operator is measured beside this tree's (git rev)")
    parser.add_argument(
        "--bursts",
        default="current",
        help="which operator makes each burst, comma-separated (current, baseline); --count is split among them",
    )
    parser.add_argument("--restarts", type=int, default=1, help="restarts of each operator (alternating); 0: none")
    parser.add_argument(
        "--restart-timeout", type=float, default=1200.0, help="seconds a restart's figures are waited for, at most"
    )
    parser.add_argument(
        "--pods-wait", type=float, default=300.0, help="seconds to wait for every renderer Pod to run before a restart"
    )
    parser.add_argument("--idle", type=float, default=130.0, help="seconds of idle per resync setting; 0: none")
    parser.add_argument("--idle-rounds", type=int, default=1, help="times to alternate resync on and off")
    parser.add_argument("--profile", type=Path, help="cProfile every restarted operator into FILE.<variant>.<n>")
    args = parser.parse_args()
    bursts = [name.strip() for name in args.bursts.split(",") if name.strip()]
    if "baseline" in bursts and not args.baseline:
        parser.error("--bursts names baseline: give --baseline REV")
    workdir = tempfile.TemporaryDirectory(prefix="vj-10k-")
    profile_hook = PROFILE_HOOK if args.profile else ""
    current = OperatorVariant("current")
    if args.profile:
        current_hook = Path(workdir.name, "current-hook")
        current_hook.mkdir()
        (current_hook / "sitecustomize.py").write_text(PROFILE_HOOK)
        current = OperatorVariant("current", current_hook)
    variants = {"current": current}
    if args.baseline:
        variants["baseline"] = baseline_variant(args.baseline, Path(workdir.name), profile_hook)
    profiles: list[Path] = []

    def profile_for(variant: str) -> Path | None:
        if not args.profile:
            return None
        profiles.append(Path(f"{args.profile.resolve()}.{variant}.{len(profiles)}"))
        return profiles[-1]

    # Every VideoJob holds a render slot (kwok Pods never finish); the setting's ceiling is 10,000, and the
    # VideoJobs each restart makes need a free one (else they wait Queued): the bursts leave room for them.
    order = ["current", "baseline"] if args.baseline else ["current"]
    made_by_restarts = 2 * args.restarts * len(order)
    cap = min(args.count + made_by_restarts, 10_000)
    in_bursts = min(args.count, cap - made_by_restarts)
    with operator_on_local_cluster(max_concurrent_renders=cap) as bench:
        kwok_log = Path(workdir.name) / "kwok.log"
        kwok = start_kwok(bench.plane.kubeconfig, kwok_log)
        try:
            nodes = "\n".join(json.dumps(kwok_node(f"kwok-node-{i:03d}")) for i in range(args.nodes))
            bench.plane.kubectl("create", "-f", "-", input=nodes)
            wait_nodes_ready(bench, args.nodes, kwok_log)
            print(f"{args.nodes} kwok nodes Ready", flush=True)
            watcher = JobWatcher(bench.api)
            watcher.start()
            warm_up(bench, watcher)
            videojobs, running, done = 1, "current", []
            sizes = [(in_bursts - 1) // len(bursts)] * len(bursts)
            sizes[-1] += in_bursts - 1 - sum(sizes)
            for number, (operator, size) in enumerate(zip(bursts, sizes, strict=True)):
                if operator != running:
                    bench.restart_operator(env=variants[operator].environment())
                    wait_settled(bench, videojobs, most_per_second=videojobs / 60 * 1.5 + 5)
                    running = operator
                done.append(burst(bench, watcher, variants[operator].name, size, f"b{number}-", videojobs + size, args))
                videojobs += size
            print_bursts(done, videojobs, args.nodes)
            restarts = []
            for round_ in range(args.restarts):
                for name in order:
                    waited = wait_pods_running(bench, videojobs, args.pods_wait)
                    print(f"restarting ({name}) after {waited:.0f} s waiting for the Pods to run", flush=True)
                    tag, profile = f"{round_}-{name}", profile_for(name)
                    figures = restart(bench, watcher, variants[name], videojobs, tag, profile, args.restart_timeout)
                    videojobs += 2
                    restarts.append(figures)
                    print_restarts(restarts[-1:], videojobs)
                    try:
                        wait_settled(bench, videojobs, videojobs / 60 * 1.5 + 5, timeout=args.restart_timeout)
                    except SystemExit as unsettled:
                        print(f"  (went on: {unsettled})", flush=True)
            if restarts:
                print_restarts(restarts, videojobs)
            measure_resync(bench, args.idle, videojobs, args.idle_rounds)
            watcher.stopping.set()
        finally:
            kwok.stop()
    for profile in [path for p in profiles for path in (p, Path(f"{p}.threads"))]:
        if profile.exists():
            print(f"--- {profile.name}")
            pstats.Stats(str(profile)).sort_stats("tottime").print_stats(25)
    workdir.cleanup()


if __name__ == "__main__":
    main()
