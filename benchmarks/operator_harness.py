"""Shared by the operator_* benchmarks: a local control plane, the CRD, and the operator as a subprocess.

Not a benchmark itself. The operator runs exactly as in production
(``python -P -m videojob.operator``, started by the dev environment's launcher), watching
one namespace, with the render cap raised so that the queue does not hold Jobs back.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import kubernetes
from prometheus_client.parser import text_string_to_metric_families

from videojob_devenv import REPO_ROOT
from videojob_devenv.controlplane import ControlPlane
from videojob_devenv.objects import videojob_manifest
from videojob_devenv.operator_process import OperatorProcess, start_operator
from videojob_devenv.processes import free_port

NAMESPACE = "bench"
# Put on a baseline operator's PYTHONPATH: the editable install's finder then imports the product's packages
# from another commit's tree (git archive), everything else (kopf, the client) from the same virtualenv.
BASELINE_HOOK = """\
import sys as _sys
for _finder in _sys.meta_path:
    _module = _sys.modules.get(getattr(_finder, "__module__", ""))
    if "videojob.operator" in getattr(_module, "MAPPING", {{}}):
        _module.MAPPING.update({mapping!r})
"""
PACKAGE_FOLDERS = {
    "videojob": "videojob",
    "videojob.operator": "operator",
    "videojob.renderer": "renderer",
    "videojob.api": "api",
}


@dataclass
class OperatorVariant:
    """Which code a (re)started operator runs: ``current`` (this tree) or ``baseline`` (another commit)."""

    name: str
    hook_dir: Path | None = None  # holds the sitecustomize that points the imports at the baseline's tree

    def environment(self, profile: Path | None = None) -> dict[str, str]:
        env = {"PYTHONPATH": str(self.hook_dir)} if self.hook_dir else {}
        if profile is not None:
            env["VIDEOJOB_BENCH_PROFILE"] = str(profile)
        return env


def baseline_variant(revision: str, workdir: Path, profile_hook: str = "") -> OperatorVariant:
    """The operator of commit ``revision``, unpacked (``git archive``, the repository untouched) under ``workdir``."""
    tree = workdir / "baseline-tree"
    tree.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "archive", revision, *sorted(set(PACKAGE_FOLDERS.values()))],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    hook = workdir / "baseline-hook"
    hook.mkdir()
    mapping = {package: str(tree / folder) for package, folder in PACKAGE_FOLDERS.items()}
    (hook / "sitecustomize.py").write_text(BASELINE_HOOK.format(mapping=mapping) + profile_hook)
    return OperatorVariant(f"baseline {revision}", hook)


def videojob(name: str) -> dict:
    return videojob_manifest(name, source={"markdown": f"# {name}\n\nBenchmark lecture.\n"})


def _owner_name(job: kubernetes.client.V1Job) -> str:
    """The VideoJob that owns a renderer Job."""
    assert job.metadata is not None and job.metadata.owner_references, "a renderer Job without its VideoJob"
    return job.metadata.owner_references[0].name


@dataclass
class JobWatcher:
    """Records when each renderer Job's ADDED event reaches us, by VideoJob name."""

    api: kubernetes.client.ApiClient
    seen: dict[str, float] = field(default_factory=dict)
    changed: threading.Condition = field(default_factory=threading.Condition)
    stopping: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                self._watch()
            except Exception as error:
                if self.stopping.is_set():
                    return
                print(f"job watch restarted after: {error!r}"[:200], flush=True)
                time.sleep(0.5)

    def _watch(self) -> None:
        batch = kubernetes.client.BatchV1Api(self.api)
        listed = batch.list_namespaced_job(NAMESPACE)
        with self.changed:  # Jobs made while the watch was down count from now (only after a restart)
            for job in listed.items:
                self.seen.setdefault(_owner_name(job), time.monotonic())
            self.changed.notify_all()
        assert listed.metadata is not None
        resource_version = listed.metadata.resource_version
        while True:
            stream = kubernetes.watch.Watch().stream(
                batch.list_namespaced_job,
                NAMESPACE,
                resource_version=resource_version,
                timeout_seconds=300,
                allow_watch_bookmarks=True,
            )
            for event in stream:
                job = event["object"]
                if event["type"] == "BOOKMARK":
                    resource_version = job["metadata"]["resourceVersion"]
                    continue
                resource_version = job.metadata.resource_version
                if event["type"] == "ADDED":
                    name = _owner_name(job)
                    with self.changed:
                        self.seen.setdefault(name, time.monotonic())
                        self.changed.notify_all()

    def wait_for(self, count: int, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: len(self.seen) >= count, timeout)

    def wait_name(self, name: str, timeout: float) -> float | None:
        with self.changed:
            self.changed.wait_for(lambda: name in self.seen, timeout)
            return self.seen.get(name)


def _cpu_seconds(stat: Path) -> float:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def requests_per_videojob(before: dict[str, float], after: dict[str, float], count: int) -> str:
    """``4.00 (POST jobs 1.00, ...); 3.10 reconciles``: what one VideoJob cost, on average."""
    deltas = {key: (after.get(key, 0) - before.get(key, 0)) / count for key in after}
    reconciles, failed = deltas.pop("reconciles", 0), deltas.pop("reconcile errors", 0)
    parts = [f"{key} {value:.2f}" for key, value in sorted(deltas.items()) if value]
    return f"{sum(deltas.values()):.2f} ({', '.join(parts)}); {reconciles:.2f} reconciles ({failed:.2f} failed)"


@dataclass
class Bench:
    plane: ControlPlane
    operator: OperatorProcess
    api: kubernetes.client.ApiClient
    metrics_port: int = 0
    settings: dict[str, str] = field(default_factory=dict)
    log: Path | None = None

    def restart_operator(
        self,
        timeout: float = 600,
        env: Mapping[str, str] | None = None,
        between: Callable[[], None] | None = None,
        **changed: str,
    ) -> float:
        """Stop the operator and start it again with these settings changed (the rest as before) and ``env`` (this
        start only); ``between`` runs while no operator runs. The seconds until it is live (at 10,000 on a loaded
        machine the starting commit took over a minute). Its counters start from 0 again."""
        assert self.log is not None
        self.operator.stop(grace=20)
        if between is not None:
            between()
        self.settings = self.settings | changed
        self.operator = start_operator(
            self.plane.kubeconfig, NAMESPACE, self.log, settings=self.settings | dict(env or {}), timeout=timeout
        )
        return self.operator.started_in

    def create(self, body: dict) -> None:
        kubernetes.client.CustomObjectsApi(self.api).create_namespaced_custom_object(
            "videojob.dev", "v1alpha1", NAMESPACE, "videojobs", body
        )

    def operator_cpu_seconds(self) -> float:
        return _cpu_seconds(Path(f"/proc/{self.operator.pid}/stat"))

    def operator_loop_cpu_seconds(self) -> float:
        """CPU of the operator's main thread, the one that runs the event loop (kopf, the reconciles)."""
        return _cpu_seconds(Path(f"/proc/{self.operator.pid}/task/{self.operator.pid}/stat"))

    def operator_requests(self) -> dict[str, float]:
        """The operator's own counts (``verb resource`` -> requests, ``reconciles`` and ``reconcile errors``), from its
        metrics."""
        if not self.metrics_port:
            return {}
        text = urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=10).read().decode()
        counts = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if family.name == "videojob_operator_api_requests" and sample.name.endswith("_total"):
                    counts[f"{sample.labels['verb']} {sample.labels['resource']}"] = sample.value
                elif family.name == "videojob_operator_reconciles" and sample.name.endswith("_total"):
                    counts["reconciles"] = counts.get("reconciles", 0) + sample.value
                    if sample.labels.get("outcome") == "error":
                        counts["reconcile errors"] = sample.value
        return counts

    def operator_rss_mib(self) -> tuple[float, float]:
        """Resident memory now and at its peak, in MiB, from /proc."""
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{self.operator.pid}/status").read_text().splitlines())
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


@contextlib.contextmanager
def operator_on_local_cluster(max_concurrent_renders: int = 10_000) -> Iterator[Bench]:
    with tempfile.TemporaryDirectory(prefix="vj-bench-") as state:
        plane = ControlPlane(Path(state) / "controlplane")
        print(f"control plane ready in {plane.start():.1f}s", flush=True)
        bench = None
        try:
            for crd in sorted((REPO_ROOT / "manifests" / "crd").glob("*.yaml")):
                plane.kubectl("apply", "--server-side", "-f", str(crd))
            for attempt in range(3):  # a busy API server can answer the first wait before it knows the CRD
                established = plane.kubectl(
                    "wait", "--for=condition=Established", "--timeout=50s", "crd/videojobs.videojob.dev", check=False
                )
                if established.returncode == 0:
                    break
                print(f"CRD not Established yet (try {attempt + 1}): {established.stderr.strip()}", flush=True)
            plane.kubectl("create", "namespace", NAMESPACE)
            log = Path(state) / "operator.log"
            metrics_port = free_port()
            settings = {
                "VIDEOJOB_MAX_CONCURRENT_RENDERS": str(max_concurrent_renders),
                "VIDEOJOB_LOG_LEVEL": os.environ.get("VIDEOJOB_LOG_LEVEL", "WARNING"),
                "VIDEOJOB_METRICS_PORT": str(metrics_port),
            }
            operator = start_operator(plane.kubeconfig, NAMESPACE, log, settings=settings)
            print(f"operator live in {operator.started_in:.1f}s", flush=True)
            api = plane.api_client()
            api.configuration.connection_pool_maxsize = 32
            bench = Bench(plane, operator, api, metrics_port, settings, log)
            try:
                yield bench
            except BaseException:
                print(
                    "operator log (last 40 lines):\n" + "\n".join(log.read_text(errors="replace").splitlines()[-40:]),
                    flush=True,
                )
                raise
            if os.environ.get("VIDEOJOB_BENCH_KEEP_LOG"):
                import shutil

                shutil.copy(log, os.environ["VIDEOJOB_BENCH_KEEP_LOG"])
            errors = [
                line for line in log.read_text(errors="replace").splitlines() if "ERROR" in line or "Traceback" in line
            ]
            print(
                f"operator log: {len(errors)} error line(s)" + (f"; first: {errors[0]}" if errors else ""), flush=True
            )
        finally:
            if bench is not None:
                bench.operator.stop(grace=20)
            plane.stop()


def warm_up(bench: Bench, watcher: JobWatcher) -> None:
    """One VideoJob end to end, so that imports and first connections are not measured."""
    bench.create(videojob("warm-up"))
    if watcher.wait_name("warm-up", 60) is None:
        raise SystemExit("the operator created no Job for the warm-up VideoJob within 60 s")
