"""500 renders streaming progress at once: status lag, and what following their logs costs the operator.

On a local control plane, 500 VideoJobs get their renderer Pods; this script plays the
kubelet's part (there is no kubelet here): it binds each Pod to a cordoned Node, marks it
running, and serves the node's container-log endpoint, which the real API server proxies
``GET .../pods/NAME/log?follow=true`` to. Each Pod then prints one progress line per round
(spread over the round). Measured per line: the lag from the line's write to the first
VideoJob watch event showing its stage (p50, p99; goal p99 <= 2 s), and the operator's
threads and resident memory with every stream open.

Side by side in the same run, on the same cluster: this tree's operator against a
baseline operator (``--baseline REV``, by default the commit before logs were read on
the event loop, which follows each Pod's log in a thread of its own), each in a namespace
of its own, one after the other.

    PYTHONSAFEPATH=1 .venv/bin/python -P benchmarks/progress_streams.py [--renders 500] [--rounds 6] [--interval 5]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import kubernetes

from videojob.contract import ProgressEvent, encode_progress
from videojob_devenv import REPO_ROOT
from videojob_devenv.controlplane import ControlPlane
from videojob_devenv.objects import videojob_manifest
from videojob_devenv.operator_process import start_operator
from videojob_devenv.pod_logs import PodLogServer, kubelet_serving_pair

NODE = "progress-bench-node"
NAME_LABEL = "videojob.dev/name"  # on every renderer Pod: its VideoJob's name
THREAD_PER_POD_COMMIT = "908b453^"  # the commit before operator/logstream.py


def baseline_tree(revision: str, directory: Path) -> Path:
    """The baseline's Python packages, laid out as the editable install maps them (videojob.operator = operator/)."""
    directory.mkdir(parents=True)
    subprocess.run(
        f"git -C {REPO_ROOT} archive {revision} videojob operator renderer api | tar -x -C {directory}",
        shell=True,
        check=True,
    )
    package = directory / "videojob"
    for sub in ("operator", "renderer", "api"):
        (directory / sub).rename(package / sub)
    return directory


class StageWatcher:
    """First time each (VideoJob, stage) shows in a watch event, by monotonic clock."""

    def __init__(self, api: kubernetes.client.ApiClient, namespace: str) -> None:
        self.api, self.namespace = api, namespace
        self.first_seen: dict[tuple[str, str], float] = {}
        self.stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        custom = kubernetes.client.CustomObjectsApi(self.api)
        while not self.stop.is_set():
            try:
                stream = kubernetes.watch.Watch().stream(
                    custom.list_namespaced_custom_object,
                    "videojob.dev",
                    "v1alpha1",
                    self.namespace,
                    "videojobs",
                    timeout_seconds=60,
                )
                for event in stream:
                    body = event["object"]
                    stage = (body.get("status") or {}).get("stage")
                    if stage:
                        self.first_seen.setdefault((body["metadata"]["name"], stage), time.monotonic())
                    if self.stop.is_set():
                        return
            except Exception as error:  # a broken watch restarts; lines it missed count as late
                if not self.stop.is_set():
                    print(f"stage watch restarted after {error}"[:200], flush=True)
                    time.sleep(0.2)


def proc_field(pid: int, name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise KeyError(name)


def run_one(
    label: str, plane: ControlPlane, server: PodLogServer, args: argparse.Namespace, env: dict[str, str]
) -> dict:
    namespace = f"streams-{label}"
    plane.kubectl("create", "namespace", namespace)
    api = plane.api_client()
    core = kubernetes.client.CoreV1Api(api)
    log = Path(tempfile.mkdtemp(prefix=f"vj-streams-{label}-")) / "operator.log"
    settings = {"VIDEOJOB_MAX_CONCURRENT_RENDERS": str(args.renders + 10), "VIDEOJOB_LOG_LEVEL": "WARNING"} | env
    operator = start_operator(plane.kubeconfig, namespace, log, settings=settings)
    threads_idle = proc_field(operator.pid, "Threads")
    watcher = StageWatcher(api, namespace)
    try:
        names = [f"render-{i:03d}" for i in range(args.renders)]
        custom = kubernetes.client.CustomObjectsApi(api)
        with ThreadPoolExecutor(16) as pool:  # kubectl create of 500 at once outlasts its 60 s on a busy machine
            list(
                pool.map(
                    lambda name: custom.create_namespaced_custom_object(
                        "videojob.dev", "v1alpha1", namespace, "videojobs", videojob_manifest(name, namespace=namespace)
                    ),
                    names,
                )
            )
        by_pod: dict[str, str] = {}  # renderer Pod -> its VideoJob
        deadline = time.monotonic() + 300
        while len(by_pod) < args.renders and time.monotonic() < deadline:
            for item in core.list_namespaced_pod(namespace).items:
                assert item.metadata is not None and item.metadata.name and item.metadata.labels
                by_pod[item.metadata.name] = item.metadata.labels[NAME_LABEL]
            time.sleep(1)
        pod_names = sorted(by_pod)
        if len(pod_names) < args.renders:
            raise SystemExit(f"{label}: only {len(pod_names)} of {args.renders} renderer Pods within 300 s")
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for pod_name in pod_names:  # the kubelet's part: bind the Pod, then report its container running
            binding: Any = {
                "apiVersion": "v1",
                "kind": "Binding",
                "metadata": {"name": pod_name},
                "target": {"apiVersion": "v1", "kind": "Node", "name": NODE},
            }
            core.create_namespaced_binding(namespace, binding, _preload_content=False)
            status: Any = {
                "status": {
                    "phase": "Running",
                    "startTime": now,
                    "containerStatuses": [
                        {
                            "name": "renderer",
                            "image": "localhost/videojob-renderer:test",
                            "imageID": "",
                            "ready": True,
                            "restartCount": 0,
                            "started": True,
                            "state": {"running": {"startedAt": now}},
                        }
                    ],
                }
            }
            core.patch_namespaced_pod_status(pod_name, namespace, status)
        deadline = time.monotonic() + 300
        while server.open_streams < args.renders and time.monotonic() < deadline:
            time.sleep(0.5)
        if server.open_streams < args.renders:
            raise SystemExit(f"{label}: the operator opened {server.open_streams} of {args.renders} log streams")
        threads_open = proc_field(operator.pid, "Threads")
        emitted: dict[tuple[str, str], float] = {}
        for round_ in range(1, args.rounds + 1):
            stage = f"Rendering scene {round_}/{args.rounds}"
            started = time.monotonic()
            for i, pod_name in enumerate(pod_names):
                # Each Pod writes one line per interval, the Pods spread evenly over it (renders are not in step).
                time.sleep(max(0.0, started + args.interval * i / len(pod_names) - time.monotonic()))
                line = encode_progress(ProgressEvent(phase="Rendering", progress=10 + round_, stage=stage))
                emitted[(by_pod[pod_name], stage)] = time.monotonic()
                server.say(namespace, pod_name, line)
        settle_until = time.monotonic() + 30
        while time.monotonic() < settle_until and any(key not in watcher.first_seen for key in emitted):
            time.sleep(0.5)
        rss = proc_field(operator.pid, "VmRSS") / 1024
        threads_end = proc_field(operator.pid, "Threads")
        lags = sorted(watcher.first_seen.get(key, float("inf")) - at for key, at in emitted.items())
        missing = sum(lag == float("inf") for lag in lags)
        return {
            "label": label,
            "p50": statistics.median(lags),
            "p99": lags[int(len(lags) * 0.99) - 1],
            "max": lags[-1],
            "missing": missing,
            "lines": len(lags),
            "threads_idle": threads_idle,
            "threads_open": max(threads_open, threads_end),
            "rss": rss,
        }
    finally:
        watcher.stop.set()
        server.end(namespace)
        operator.stop(grace=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=6, help="progress lines per Pod")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between a Pod's lines (a scene's length)")
    parser.add_argument("--baseline", default=THREAD_PER_POD_COMMIT)
    parser.add_argument("--this-first", action="store_true", help="measure this tree before the baseline")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vj-streams-") as state:
        plane = ControlPlane(Path(state) / "controlplane")
        print(f"control plane ready in {plane.start():.1f}s", flush=True)
        server = PodLogServer(kubelet_serving_pair(Path(plane.pki_dir), Path(state)))
        try:
            for crd in sorted((REPO_ROOT / "manifests" / "crd").glob("*.yaml")):
                plane.kubectl("apply", "--server-side", "-f", str(crd))
            for attempt in range(3):  # on a loaded machine the first wait can miss the CRD
                established = plane.kubectl(
                    "wait", "--for=condition=Established", "--timeout=50s", "crd/videojobs.videojob.dev", check=False
                )
                if established.returncode == 0:
                    break
                print(f"CRD not Established yet (try {attempt + 1}): {established.stderr.strip()}", flush=True)
            node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": NODE}, "spec": {"unschedulable": True}}
            plane.kubectl("apply", "-f", "-", input=json.dumps(node))
            capacity = {"cpu": "1000", "memory": "4Ti", "pods": "2000"}
            node_status = {"status": {"capacity": capacity, "allocatable": capacity, **server.node_status()}}
            plane.kubectl("patch", "node", NODE, "--subresource=status", "--type=merge", "-p", json.dumps(node_status))
            base = baseline_tree(args.baseline, Path(state) / "baseline")
            order = ["this", "baseline"] if args.this_first else ["baseline", "this"]
            environments = {"baseline": {"PYTHONPATH": str(base)}, "this": {}}
            by_label = {label: run_one(label, plane, server, args, environments[label]) for label in order}
            results = [by_label["baseline"], by_label["this"]]
        finally:
            server.stop()
            plane.stop()
    print(f"load average at the end: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print(
        f"{args.renders} renders x {args.rounds} progress lines, one per {args.interval:g} s per render; "
        "status lag from the line's write to the watch event (missed: not seen within 30 s of the last line)"
    )
    print(f"{'':28}{'p50 s':>8}{'p99 s':>8}{'max s':>8}{'missed':>8}{'threads':>9}{'idle thr':>9}{'RSS MiB':>9}")
    for r in results:
        name = {"baseline": f"thread per Pod ({args.baseline})", "this": "event loop (this tree)"}[r["label"]]
        print(
            f"{name:28}{r['p50']:>8.2f}{r['p99']:>8.2f}{r['max']:>8.2f}{r['missing']:>8}"
            f"{r['threads_open']:>9}{r['threads_idle']:>9}{r['rss']:>9.0f}"
        )
    print("goal: p99 <= 2 s")


if __name__ == "__main__":
    os.environ.setdefault("VIDEOJOB_LOG_LEVEL", "WARNING")
    main()
