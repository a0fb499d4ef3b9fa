"""Chaos on the real node: faults injected while VideoJobs render, and what was lost or done twice, counted.

Nothing is played by the test: the operator is a real process SIGKILLed as a crashed Pod would be,
and renderer Pods are deleted through the API server as a drained node or a user would. An
observer polls the API server throughout and records every VideoJob's phase and progress, every
renderer Job's and Pod's uid, so the counts come from what the cluster showed.

The suite runs the short version (a few jobs, a few faults); ``hack/chaos`` runs the full one
(VIDEOJOB_CHAOS=full: 50 VideoJobs and at least 10 operator kills, 10 Pod deletions) and prints
the same report lines.
"""

from __future__ import annotations

import functools
import json
import os
import random
import secrets
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from support import videojob_manifest, wait_for
from videojob_devenv.processes import https_ok

FULL = os.environ.get("VIDEOJOB_CHAOS") == "full"
# Pending and Queued both mean "not rendering yet" (a queued job is Pending again while its Pod starts).
PHASE_ORDER = {"": 0, "Pending": 0, "Queued": 0, "Scripting": 2, "Rendering": 3, "Assembling": 4, "Uploading": 5}
TERMINAL = ("Succeeded", "Failed")
EVENTS_PER_VIDEOJOB_MAX = 12  # JobCreated, a few phases, Succeeded: a storm is many more
UID_LABEL = "videojob.dev/uid"
RENDER_CAP = 2  # renders at once: a restarted operator must not forget the ones already running
# Each list the observer sends is tried once and gives up after this: a restarting API server can
# take a request and not answer it, and the client's retries made one poll wait 7.7 s (3.7 s before the
# server was ready, 4.0 s after: the status it then read was already 4 s old), another 7.2 s (it saw
# none of the progress written before the next restart). The next poll comes 0.5 s later instead.
OBSERVER_REQUEST_TIMEOUT = 2.0


@dataclass
class Observed:
    """What the observer saw of one VideoJob."""

    points: list[tuple[float, str, float]] = field(default_factory=list)  # (when, phase, progress)
    job_uids: set[str] = field(default_factory=set)
    pod_uids: set[str] = field(default_factory=set)

    @property
    def phase(self) -> str:
        return self.points[-1][1] if self.points else ""

    def backwards(self) -> list[str]:
        """Every step where the status went back: an earlier phase, or less progress in the same phase."""
        steps = []
        for (_, phase_a, progress_a), (_, phase_b, progress_b) in zip(self.points, self.points[1:], strict=False):
            if phase_a in TERMINAL:
                if phase_b != phase_a:
                    steps.append(f"{phase_a} -> {phase_b}")
                continue
            if phase_b in TERMINAL:
                continue
            rank_a, rank_b = PHASE_ORDER.get(phase_a, 0), PHASE_ORDER.get(phase_b, 0)
            if rank_b < rank_a or (rank_b == rank_a and progress_b < progress_a):
                steps.append(f"{phase_a} {progress_a:.0f}% -> {phase_b} {progress_b:.0f}%")
        return steps


class Observer(threading.Thread):
    """Polls the namespace's VideoJobs, Jobs and Pods through the API server until stopped."""

    def __init__(self, kube_cluster, namespace: str, interval: float = 0.5):
        super().__init__(daemon=True)
        from kubernetes import client, config

        configuration = client.Configuration()
        config.load_kube_config(str(kube_cluster.kubeconfig), client_configuration=configuration)
        configuration.retries = False  # one try per request: a poll that fails is followed by the next one
        api_client = client.ApiClient(configuration)
        self.custom = client.CustomObjectsApi(api_client)
        self.batch = client.BatchV1Api(api_client)
        self.core = client.CoreV1Api(api_client)
        self.namespace, self.interval = namespace, interval
        self.seen: dict[str, Observed] = defaultdict(Observed)  # by VideoJob name
        self.errors = 0
        self.most_running = 0  # renderer Pods running at once, the most seen
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.poll()
            except Exception:  # the API server may be restarting; the next poll sees the rest
                self.errors += 1
            self._stop_event.wait(self.interval)

    def poll(self) -> None:
        uid_to_name: dict[str, str] = {}
        timeout = OBSERVER_REQUEST_TIMEOUT
        videojobs: dict[str, Any] = self.custom.list_namespaced_custom_object(  # type: ignore[assignment]
            "videojob.dev", "v1alpha1", self.namespace, "videojobs", _request_timeout=timeout
        )
        now = time.monotonic()  # dated when the answer came: a poll that waited is not dated before the wait
        for item in videojobs["items"]:
            name, status = item["metadata"]["name"], item.get("status") or {}
            uid_to_name[item["metadata"]["uid"]] = name
            point = (status.get("phase", ""), float(status.get("progress", 0)))
            observed = self.seen[name]
            if not observed.points or observed.points[-1][1:] != point:
                observed.points.append((now, *point))
        for job in self.batch.list_namespaced_job(self.namespace, _request_timeout=timeout).items:
            owner = (job.metadata.labels or {}).get(UID_LABEL)
            if owner in uid_to_name:
                self.seen[uid_to_name[owner]].job_uids.add(str(job.metadata.uid))
        running = 0
        for pod in self.core.list_namespaced_pod(self.namespace, _request_timeout=timeout).items:
            owner = (pod.metadata.labels or {}).get(UID_LABEL)
            if owner in uid_to_name:
                self.seen[uid_to_name[owner]].pod_uids.add(str(pod.metadata.uid))
                running += pod.status.phase == "Running"
        self.most_running = max(self.most_running, running)

    def finished(self, names: list[str]) -> bool:
        return all(self.seen[name].phase in TERMINAL for name in names)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)


@dataclass
class Report:
    scenario: str
    runs: int = 1
    faults: int = 0
    finished: int = 0
    lost: int = 0
    duplicate_renders: int = 0
    longest_recovery_s: float = 0.0

    def line(self) -> str:
        return (
            f"chaos: {self.scenario}: runs={self.runs} faults_injected={self.faults} jobs_finished={self.finished} "
            f"jobs_lost={self.lost} duplicate_renders={self.duplicate_renders} "
            f"longest_recovery_s={self.longest_recovery_s:.1f}"
        )


def _print(report: Report, tmp_path) -> None:
    print(report.line(), flush=True)
    out = os.environ.get("VIDEOJOB_CHAOS_REPORT")
    if out:
        with open(out, "a") as sink:
            sink.write(report.line() + "\n")


def _lecture(name: str, sections: int) -> str:
    # A word unique to the run in every scene: no scene comes from another test's cache.
    token = secrets.token_hex(4)
    parts = [f"# {name} {token}\n\nThis lecture has {sections} sections, {token}.\n"]
    parts += [f"## Part {n}\n\nPart {n} says one short thing, {token}.\n" for n in range(1, sections)]
    return "\n".join(parts)


def _create(kube_cluster, namespace: str, names: list[str], sections: int) -> None:
    manifests = [
        videojob_manifest(name, source={"markdown": _lecture(name, sections)}, parallelism=1, retries=3)
        for name in names
    ]
    kube_cluster.kubectl(
        "apply", "-n", namespace, "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": manifests})
    )


def _events_per_videojob(kube_cluster, namespace: str) -> dict[str, int]:
    events = json.loads(kube_cluster.kubectl("get", "events", "-n", namespace, "-o", "json").stdout)["items"]
    counts: dict[str, int] = defaultdict(int)
    for event in events:
        if event["involvedObject"].get("kind") == "VideoJob":
            counts[event["involvedObject"]["name"]] += int(event.get("count") or 1)
    return counts


def test_operator_sigkilled_at_random_moments_loses_nothing_and_creates_no_job_twice(
    kube_cluster, namespace, node_operator, tmp_path
):
    operator = node_operator(VIDEOJOB_MAX_CONCURRENT_RENDERS=str(RENDER_CAP))
    jobs, kills = (50, 12) if FULL else (4, 4)
    names = [f"kill-{n:02d}" for n in range(jobs)]
    observer = Observer(kube_cluster, namespace)
    observer.start()
    _create(kube_cluster, namespace, names, sections=1)
    report = Report("operator SIGKILL", faults=0)
    rng = random.Random(os.environ.get("VIDEOJOB_CHAOS_SEED", "14"))
    deadline = time.monotonic() + (1500 if FULL else 420)
    try:
        while report.faults < kills and not observer.finished(names) and time.monotonic() < deadline:
            time.sleep(rng.uniform(0.5, 6.0))
            killed_at = time.monotonic()
            operator.kill()
            report.faults += 1
            time.sleep(rng.uniform(0.0, 2.0))  # the operator is down for a moment, as a Pod restart is
            operator.component.start()
            operator.component.wait_ready(lambda: https_ok(operator.liveness_url, timeout=1.0), 90)
            report.longest_recovery_s = max(report.longest_recovery_s, time.monotonic() - killed_at)
        wait_for(lambda: observer.finished(names), max(60.0, deadline - time.monotonic()), "every VideoJob to finish")
    except TimeoutError:
        pass  # counted as lost below
    finally:
        observer.stop()
    seen = observer.seen
    report.finished = sum(seen[name].phase == "Succeeded" for name in names)
    report.lost = jobs - report.finished
    report.duplicate_renders = sum(max(0, len(seen[name].job_uids) - 1) for name in names)
    _print(report, tmp_path)

    details = {name: (seen[name].phase, len(seen[name].job_uids), len(seen[name].pod_uids)) for name in names}
    assert report.faults >= min(kills, 1)
    assert report.lost == 0, f"{details}\noperator log tail:\n{operator.log_tail(60)}"
    assert report.duplicate_renders == 0, details
    assert observer.most_running <= RENDER_CAP, f"{observer.most_running} renderer Pods ran at once"
    backwards = {name: seen[name].backwards() for name in names if seen[name].backwards()}
    assert not backwards, backwards
    events = _events_per_videojob(kube_cluster, namespace)
    assert max(events.values()) <= EVENTS_PER_VIDEOJOB_MAX, events


def _rendering_pod(kube_cluster, namespace: str, name: str) -> tuple[str, int] | None:
    """The VideoJob's running renderer Pod and how many scenes it has finished, once it has finished one."""
    pods = json.loads(
        kube_cluster.kubectl("get", "pods", "-n", namespace, "-l", f"videojob.dev/name={name}", "-o", "json").stdout
    )["items"]
    running = [
        pod for pod in pods if pod["status"].get("phase") == "Running" and not pod["metadata"].get("deletionTimestamp")
    ]
    if not running:
        return None
    pod = running[0]["metadata"]["name"]
    log = kube_cluster.kubectl("logs", "-n", namespace, pod, check=False).stdout
    done = 0
    for line in log.splitlines():
        if line.startswith("{") and '"progress/v1"' in line:
            event = json.loads(line)
            if event.get("phase") == "Rendering" and event.get("scene"):
                done = max(done, int(event["scene"]))
    return (pod, done) if done >= 1 else None


def test_a_renderer_pod_deleted_mid_render_finishes_from_the_cached_scenes(
    kube_cluster, namespace, node_operator, tmp_path
):
    operator = node_operator(VIDEOJOB_MAX_CONCURRENT_RENDERS=str(RENDER_CAP))
    jobs, sections = (10, 6) if FULL else (1, 5)
    names = [f"podkill-{n:02d}" for n in range(jobs)]
    observer = Observer(kube_cluster, namespace)
    observer.start()
    _create(kube_cluster, namespace, names, sections=sections)
    report = Report("renderer Pod deleted", faults=0)
    finished_before_kill: dict[str, int] = {}
    deleted_at: dict[str, float] = {}

    def caught(name: str) -> tuple[str, int] | None:
        """The Pod to delete and the scenes it finished; ("", all) once the VideoJob is over."""
        if observer.seen[name].phase in TERMINAL:
            return ("", sections)
        return _rendering_pod(kube_cluster, namespace, name)

    try:
        for name in names:
            found = wait_for(
                functools.partial(caught, name),
                900 if FULL else 300,  # the last ones wait for a render slot
                f"{name} to render its first scene",
                interval=1.0,
            )
            pod, done = found
            if done >= sections:
                continue  # finished before we could delete its Pod: no fault injected
            kube_cluster.kubectl("delete", "pod", "-n", namespace, pod, "--wait=false")
            report.faults += 1
            finished_before_kill[name] = done
            deleted_at[name] = time.monotonic()
        wait_for(lambda: observer.finished(names), 1200 if FULL else 600, "every VideoJob to finish")
    except TimeoutError:
        pass
    finally:
        observer.stop()
    statuses = {
        name: json.loads(kube_cluster.kubectl("get", "vj", name, "-n", namespace, "-o", "json").stdout)["status"]
        for name in names
    }
    report.finished = sum(status.get("phase") == "Succeeded" for status in statuses.values())
    report.lost = jobs - report.finished
    twice = {}
    for name, done in finished_before_kill.items():
        usage = statuses[name].get("usage") or {}
        cached = int(usage.get("scenesCached", 0))
        twice[name] = max(0, done - cached)  # finished by the deleted Pod, yet drawn again by the next
    report.duplicate_renders = sum(twice.values())
    recoveries = []  # from the deletion to the video stored
    for name, when in deleted_at.items():
        ends = [at for at, phase, _ in observer.seen[name].points if phase in TERMINAL]
        recoveries.append((ends[0] if ends else time.monotonic()) - when)
    report.longest_recovery_s = max(recoveries, default=0.0)
    _print(report, tmp_path)

    assert report.faults >= 1, "no Pod was caught mid-render"
    assert report.lost == 0, f"{statuses}\noperator log tail:\n{operator.log_tail(60)}"
    assert report.duplicate_renders == 0, (twice, {name: statuses[name].get("usage") for name in names})
    for name in finished_before_kill:
        assert len(observer.seen[name].pod_uids) >= 2, observer.seen[name]
        assert len(observer.seen[name].job_uids) == 1, observer.seen[name]
