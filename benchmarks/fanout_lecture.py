"""A two-minute lecture on 2 renderer Pods of 1 CPU each against 1 Pod of 1 CPU, on the real node.

    PYTHONSAFEPATH=1 .venv/bin/python -P benchmarks/fanout_lecture.py [--pods 2] [--repeat 1] [--quality low,medium]
        [--baseline REV] [--logs DIR] [--poll SECONDS]

Everything is real and started here: a control plane, a node (containerd + kubelet), a MinIO
the Pods reach, the renderer image (built from this tree, layers cached), and the operator as
a process. Each figure is one VideoJob from `kubectl apply` to phase Succeeded, on an empty
scene cache (the cache is emptied before every run): the baseline is spec.parallelism 1 (one
Pod draws every scene, one at a time on its CPU), the fan-out spec.parallelism N (N Pods draw
their shares; the last then joins them in its own Pod). Every Pod, at every quality, is limited
to 1 CPU (a spec.resources override of the preset) and requests 950m (see REQUEST_CPU).

Under each figure, where the time went, none of which depends on the load as the wall does:
each Pod's CPU seconds (its own termination message), the span its container ran (the API's
whole seconds, from the apply), and the critical path: apply -> first Pod created -> the
container starts -> the last container ends -> phase Succeeded as a watch sees it, and the
time from the renderer's last log line to that. The end is seen through one watch: until
30c34c1 it was a `kubectl get` every 0.25 s (``--poll 0.25`` runs it so again), which cost
about 60 ms of CPU a time, a quarter of a core taken from the very Pods being measured.
Runs alternate, so both see the same load on a shared machine; the machine's load average
is printed beside them. Not a test: it prints its figures.

With ``--baseline REV`` the renderer image of that commit (built from ``git archive REV``, as
``localhost/videojob-renderer-baseline``) runs the same renders in the same cluster, its runs
alternating with this tree's; the operator is this tree's for both, restarted with the image
each uses.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from videojob.contract import parse_share_message, parse_termination_message
from videojob_devenv import images
from videojob_devenv.controlplane import ControlPlane
from videojob_devenv.dockerfiles import dockerfile_image
from videojob_devenv.minio import MinioServer
from videojob_devenv.node import Node
from videojob_devenv.objects import videojob_manifest
from videojob_devenv.operator_process import start_operator
from videojob_devenv.processes import wait_for

REPO = Path(__file__).resolve().parent.parent
S3_SECRET = "videojob-s3"
# Each Pod is limited to 1 CPU (the low preset) and requests a little less: the local node has this
# machine's 2 CPUs, and a system Pod's request (CoreDNS asked for 50m until 5d2a759) would leave room
# for one 1-CPU request only, so that the Pods ran one by one.
REQUEST_CPU = "950m"
LOGS: Path | None = None  # --logs
POLL: float | None = None  # --poll
LIMIT_CPU = "1"  # the low preset's; medium and high are given the same, so only the Pod count differs
SECTIONS = [
    ("Light", "Light is a wave of electric and magnetic fields that carries energy from the Sun to us, and its "
              "colour is set by how long its waves are."),
    ("Wavelength", "Red light has long waves and blue light has short ones, about half as long, and our eyes mix "
                   "them into the white of daylight."),
    ("Air", "The air is made of tiny molecules of nitrogen and oxygen, far smaller than a wave of light, spread "
            "thinly through the whole sky above us."),
    ("Scattering", "When light meets a molecule it is thrown off in a new direction, and short waves are thrown "
                   "off far more often than long ones."),
    ("The blue sky", "So blue light from the Sun is scattered all over the sky and reaches our eyes from every "
                     "direction, and the whole sky glows blue."),
    ("Sunsets", "At sunset the light crosses much more air, the blue is scattered away before it reaches us, and "
                "the red and orange that are left colour the sky."),
    ("Clouds", "Cloud droplets are much bigger than molecules and scatter every colour alike, which is why clouds "
               "look white or grey instead of blue."),
    ("Other worlds", "On Mars the air is thin and full of fine red dust, so its daytime sky is a butterscotch "
                     "colour and its sunsets are blue."),
]  # fmt: skip


def lecture() -> str:
    parts = ["# Why the sky is blue\n\nA short lecture about light, air and colour.\n"]
    for title, text in SECTIONS:
        parts.append(f"## {title}\n\n{text}\n\n- {text.split(',')[0]}\n")
    parts.append("## Key takeaways\n\n- Short waves scatter most\n- Long paths leave the red\n")
    return "\n".join(parts)


def empty_the_cache(minio: MinioServer) -> None:
    client = minio.client()
    for item in client.list_objects(minio.bucket, prefix="cache/", recursive=True):
        client.remove_object(minio.bucket, item.object_name)


@dataclass(frozen=True)
class PodFigures:
    label: str
    created: float  # seconds from the apply, whole seconds from the API
    started: float
    ended: float
    cpu_seconds: float | None  # from its termination message
    render_seconds: float | None  # the renderer's own figure, from its log
    fed_ahead: str  # how much of the narration the assembling Pod encoded while scenes were drawn ("" if none)
    last_line: float | None  # seconds from the apply to its last log line (the container runtime's timestamp)


@dataclass(frozen=True)
class Run:
    wall: float
    status: dict
    pods: list[PodFigures]
    succeeded_seen: float  # seconds from the apply

    @property
    def cpu_seconds(self) -> float:
        return sum(pod.cpu_seconds or 0.0 for pod in self.pods)

    def critical_path(self) -> str:
        first = min(self.pods, key=lambda pod: pod.created)
        last = max(self.pods, key=lambda pod: pod.ended)
        said = max((pod.last_line for pod in self.pods if pod.last_line is not None), default=None)
        told = f", last log line to it {self.succeeded_seen - said:.2f}s" if said is not None else ""
        return (f"apply -> Pod created {first.created:.0f}s -> container started {first.started:.0f}s -> "
                f"last container ({last.label}) ended {last.ended:.0f}s -> Succeeded seen {self.succeeded_seen:.1f}s "
                f"(end to Succeeded {self.succeeded_seen - last.ended:.1f}s"
                f"{told})")  # fmt: skip


def render(plane: ControlPlane, namespace: str, name: str, parallelism: int, quality: str) -> Run:
    """One VideoJob from `kubectl apply` to Succeeded, and where its time went."""
    resources = {"requests": {"cpu": REQUEST_CPU}, "limits": {"cpu": LIMIT_CPU}}
    manifest = videojob_manifest(name, source={"markdown": lecture()}, quality=quality, parallelism=parallelism,
                                 voice={"provider": "espeak", "name": "en-us"}, resources=resources)  # fmt: skip
    began, applied = time.monotonic(), time.time()
    plane.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(manifest))

    status = the_end(plane, namespace, name, 1800) if POLL is None else polled_end(plane, namespace, name, 1800)
    seconds = time.monotonic() - began
    if status["phase"] != "Succeeded":
        raise SystemExit(f"vj/{name} failed: {json.dumps(status.get('failure'))}")
    run = Run(seconds, status, pod_figures(plane, namespace, name, applied), seconds)
    for pod in run.pods:
        print(f"  {name} {pod.label}: created +{pod.created:.0f}s, ran {pod.started:.0f}-{pod.ended:.0f}s, "
              f"{_figure(pod.cpu_seconds)} CPU-s, render {_figure(pod.render_seconds)}s"
              + (f", narration fed ahead for {pod.fed_ahead} scenes" if pod.fed_ahead else ""), flush=True)  # fmt: skip
    print(f"  {name} critical path: {run.critical_path()}", flush=True)
    return run


def the_end(plane: ControlPlane, namespace: str, name: str, timeout: float) -> dict:
    """The VideoJob's status once it is Succeeded or Failed, seen through one watch: polling every 0.25 s
    cost a kubectl process (~60 ms of CPU) and an API request each time, a quarter of a core taken from
    the Pods being measured, and it saw the end up to 0.25 s late."""
    from kubernetes import client, watch

    api = client.CustomObjectsApi(plane.api_client())
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        stream = watch.Watch()
        for event in stream.stream(api.list_namespaced_custom_object, "videojob.dev", "v1alpha1", namespace,
                                   "videojobs", field_selector=f"metadata.name={name}",
                                   timeout_seconds=max(1, int(min(left, 300)))):  # fmt: skip
            status = event["object"].get("status") or {}
            if status.get("phase") in ("Succeeded", "Failed"):
                stream.stop()
                return status
    raise SystemExit(f"vj/{name} did not end within {timeout:.0f} s")


def polled_end(plane: ControlPlane, namespace: str, name: str, timeout: float) -> dict:
    """The same, seen by `kubectl get` every ``--poll`` seconds (how this benchmark looked until 30c34c1)."""

    def finished() -> dict | None:
        body = json.loads(plane.kubectl("get", "vj", name, "-n", namespace, "-o", "json").stdout)
        status = body.get("status") or {}
        return status if status.get("phase") in ("Succeeded", "Failed") else None

    return wait_for(finished, timeout, f"vj/{name}", interval=POLL or 0.25)


def _figure(value: float | None) -> str:
    return "?" if value is None else f"{value:.1f}"


def _seconds(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def pod_figures(plane: ControlPlane, namespace: str, name: str, applied: float) -> list[PodFigures]:
    """Every finished renderer Pod of the VideoJob, oldest first, from the API's own timestamps and its messages
    (once each has terminated: the operator may call the render over from its log a second before)."""

    def every_pod_terminated() -> list[dict] | None:
        pods = json.loads(plane.kubectl("get", "pods", "-n", namespace, "-l", f"videojob.dev/name={name}",
                                        "-o", "json").stdout)["items"]  # fmt: skip
        containers = [status for pod in pods for status in pod["status"].get("containerStatuses") or [{}]]
        over = all("terminated" in (status.get("state") or {}) for status in containers)
        return pods if pods and over else None

    pods = wait_for(every_pod_terminated, 60, f"the Pods of vj/{name} to terminate", interval=0.5)
    figures = []
    for pod in sorted(pods, key=lambda p: p["metadata"]["creationTimestamp"]):
        state = pod["status"]["containerStatuses"][0]["state"].get("terminated") or {}
        if not state:
            continue
        label = pod["metadata"]["labels"].get("videojob.dev/step") or "single"
        index = pod["metadata"]["labels"].get("batch.kubernetes.io/job-completion-index")
        label += f"[{index}]" if index is not None else ""
        message = state.get("message") or ""
        usage = parse_share_message(message) or parse_termination_message(message) or None
        cpu = getattr(getattr(usage, "usage", None), "cpu_seconds", None)
        stamped = plane.kubectl("logs", "--timestamps", pod["metadata"]["name"], "-n", namespace, check=False).stdout
        if LOGS is not None:
            (LOGS / f"{pod['metadata']['name']}.log").write_text(stamped)
        lines = [line.partition(" ") for line in stamped.splitlines()]
        log = "\n".join(text for _, _, text in lines)
        last_line = max((_seconds(moment[:26] + "Z") - applied for moment, _, _ in lines if moment), default=None)
        own = re.findall(r"(?:rendered|in the cache).*? in (\d+\.\d)s", log)  # the renderer's own figure
        fed = re.search(r"narration: (\d+ of \d+) scenes were fed", log)
        # The API's timestamps are whole seconds, cut down: up to a second before the apply reads as 0.
        created, started, ended = (max(0.0, _seconds(moment) - applied) for moment in (
            pod["metadata"]["creationTimestamp"], state["startedAt"], state["finishedAt"]))  # fmt: skip
        render_seconds = float(own[-1]) if own else None
        figures.append(PodFigures(label, created, started, ended, cpu, render_seconds, fed.group(1) if fed else "",
                                  last_line))  # fmt: skip
    return figures


def baseline_image(revision: str, work: Path) -> tuple[str, images.Image]:
    """The renderer image of ``revision`` (its label, and the image)."""
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", revision],
                            capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    context = work / "baseline"
    context.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(context)], input=archive, check=True)
    image = dockerfile_image("localhost/videojob-renderer-baseline", context / "Dockerfile.renderer", context,
                             images.base_image(), images.runtime_base_image())  # fmt: skip
    return f"{revision} ({commit})", image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=2, help="spec.parallelism of the fan-out (default 2)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the median is shown")
    parser.add_argument("--quality", default="low",
                        help="low, medium or high, or several (low,medium); every Pod is limited to 1 CPU")  # fmt: skip
    parser.add_argument("--baseline", default=None, help="also run the renderer of this commit, alternating")
    parser.add_argument(
        "--logs",
        type=Path,
        default=None,
        help="write every renderer Pod's log (with timestamps) and the operator's log there",
    )
    parser.add_argument(
        "--poll",
        type=float,
        default=None,
        help="see the end by `kubectl get` every POLL seconds instead of a watch (the old way)",
    )
    args = parser.parse_args()
    global LOGS, POLL
    LOGS, POLL = args.logs, args.poll
    if LOGS is not None:
        LOGS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="vj-fanout-") as state:
        plane = ControlPlane(Path(state) / "plane")
        plane.start()
        node = Node(plane, Path(state) / "node")
        minio: MinioServer | None = None
        operator = None
        try:
            node.start()
            minio = MinioServer(Path(state) / "minio", pod_host=node.gateway)
            minio.start()
            assert minio.port is not None
            node.open_port(minio.port)
            # Each loaded as soon as it is built: another build of the image (a test run beside this one)
            # removes the archive of the tag it replaces.
            renderers = [("this tree", images.renderer_image(images.base_image()))]
            node.load(renderers[0][1])
            if args.baseline:
                renderers.insert(0, baseline_image(args.baseline, Path(state)))
                node.load(renderers[0][1])
            for crd in sorted((REPO / "manifests" / "crd").glob("*.yaml")):
                plane.kubectl("apply", "--server-side", "-f", str(crd))
            plane.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/videojobs.videojob.dev")
            namespace = "bench"
            plane.kubectl("create", "namespace", namespace)
            wait_for(lambda: plane.kubectl("get", "sa", "default", "-n", namespace, check=False).returncode == 0, 30)
            plane.kubectl("create", "secret", "generic", S3_SECRET, "-n", namespace,
                          f"--from-literal=accessKey={minio.access_key}",
                          f"--from-literal=secretKey={minio.secret_key}")  # fmt: skip
            qualities = args.quality.split(",")
            figures: dict[tuple[str, str], dict[str, list[Run]]] = {
                (name, q): {"1 Pod": [], f"{args.pods} Pods": []} for name, _ in renderers for q in qualities
            }
            video_seconds = 0.0
            for number in range(1, args.repeat + 1):
                for quality in qualities:
                    for variant, (name, image) in enumerate(renderers):
                        if operator is None or len(renderers) > 1:
                            if operator is not None:
                                operator.stop()
                            operator = start_operator(plane.kubeconfig, namespace, Path(state) / "operator.log",
                                                      settings={
                                "VIDEOJOB_RENDERER_IMAGE": image.ref,
                                "VIDEOJOB_S3_ENDPOINT": f"http://{minio.pod_endpoint}",
                                "VIDEOJOB_S3_BUCKET": minio.bucket, "VIDEOJOB_S3_SECRET_NAME": S3_SECRET,
                            })  # fmt: skip
                        for label, pods in (("1 Pod", 1), (f"{args.pods} Pods", args.pods)):
                            empty_the_cache(minio)
                            load = os.getloadavg()[0]
                            job = f"sky-{quality}-{pods}-{number}-{variant}"
                            run = render(plane, namespace, job, pods, quality)
                            video_seconds = run.status["output"]["durationSeconds"]
                            figures[(name, quality)][label].append(run)
                            print(f"run {number}, {name}, {quality}, {label:>7}: {run.wall:6.1f}s wall for "
                                  f"{video_seconds:.1f}s of video, {run.cpu_seconds:.1f} CPU-s in all Pods (load "
                                  f"average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end)",
                                  flush=True)  # fmt: skip
        finally:
            if operator is not None:
                operator.stop()
            if LOGS is not None and (Path(state) / "operator.log").exists():
                (LOGS / "operator.log").write_text((Path(state) / "operator.log").read_text())
            if minio is not None:
                minio.stop()
            node.stop()
            plane.stop()
    for (name, quality), runs in figures.items():
        summary(runs, f"{name}: {quality}", video_seconds)


def summary(figures: dict[str, list[Run]], quality: str, video_seconds: float) -> None:
    """The medians side by side: wall, CPU, the containers' span and what came after the last one ended."""
    print(f"\n{quality} quality, {video_seconds:.1f}s of video, every Pod limited to {LIMIT_CPU} CPU, "
          f"{os.cpu_count()} CPUs on this machine, medians")  # fmt: skip
    columns = ("wall s", "s/video-s", "CPU-s", "busiest Pod CPU-s", "containers s", "end->Succeeded s")
    print(f"{'':>8} " + " ".join(f"{column:>16}" for column in columns))
    medians: dict[str, tuple[float, ...]] = {}
    for label, runs in figures.items():
        wall = statistics.median(run.wall for run in runs)
        cpu = statistics.median(run.cpu_seconds for run in runs)
        busiest = statistics.median(max(pod.cpu_seconds or 0.0 for pod in run.pods) for run in runs)
        span = statistics.median(max(p.ended for p in run.pods) - min(p.started for p in run.pods) for run in runs)
        tail = statistics.median(run.succeeded_seen - max(p.ended for p in run.pods) for run in runs)
        medians[label] = (wall, wall / video_seconds, cpu, busiest, span, tail)
        print(f"{label:>8} " + " ".join(f"{value:16.2f}" for value in medians[label]))
    (single, fanned) = medians.values()
    print(f"speed-up: {single[0] / fanned[0]:.2f}x wall (goal >= 1.6x with 2 Pods), "
          f"{single[4] / max(fanned[4], 1e-9):.2f}x from the first container's start to the last one's end "
          "(whole seconds)")  # fmt: skip
    # Load does not change how much CPU each Pod needs: with a core each, the busiest Pod sets the pace.
    print(f"CPU-bound estimate (1 Pod's CPU-s over the busiest Pod's): {single[3] / max(fanned[3], 1e-9):.2f}x")


if __name__ == "__main__":
    main()
