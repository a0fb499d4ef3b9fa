"""A two-minute lecture on 2 renderer Pods of 1 CPU each against 1 Pod of 1 CPU, on the real node.

    PYTHONSAFEPATH=1 .venv/bin/python -P benchmarks/fanout_lecture.py [--pods 2] [--repeat 1] [--quality low]

Everything is real and started here: a control plane, a node (containerd + kubelet), a MinIO
the Pods reach, the renderer image (built from this tree, layers cached), and the operator as
a process. Each figure is one VideoJob from `kubectl apply` to phase Succeeded, on an empty
scene cache (the cache is emptied before every run): the baseline is spec.parallelism 1 (one
Pod draws every scene, one at a time on its CPU), the fan-out spec.parallelism N (N Pods draw
their shares, then the assembly Pod joins them). Every Pod is limited to 1 CPU and requests 950m
(see REQUEST_CPU). Under each figure, where the time went: each Pod's creation and the span
its container ran, in seconds from the VideoJob's first Pod. Runs alternate, so both see the same load on
a shared machine; the machine's load average is printed beside them. Not a test: it prints
its figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

from videojob_devenv import images
from videojob_devenv.controlplane import ControlPlane
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


def render(plane: ControlPlane, namespace: str, name: str, parallelism: int, quality: str) -> tuple[float, dict]:
    """Seconds from `kubectl apply` to Succeeded, and the final status."""
    manifest = videojob_manifest(name, source={"markdown": lecture()}, quality=quality, parallelism=parallelism,
                                 voice={"provider": "espeak", "name": "en-us"},
                                 resources={"requests": {"cpu": REQUEST_CPU}})  # fmt: skip
    began = time.monotonic()
    plane.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(manifest))

    def finished() -> dict | None:
        body = json.loads(plane.kubectl("get", "vj", name, "-n", namespace, "-o", "json").stdout)
        status = body.get("status") or {}
        return status if status.get("phase") in ("Succeeded", "Failed") else None

    status = wait_for(finished, 1800, f"vj/{name}", interval=0.25)
    seconds = time.monotonic() - began
    if status["phase"] != "Succeeded":
        raise SystemExit(f"vj/{name} failed: {json.dumps(status.get('failure'))}")
    print(f"  {name}: {steps(plane, namespace, name)}", flush=True)
    return seconds, status


def _seconds(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def steps(plane: ControlPlane, namespace: str, name: str) -> str:
    """Where the time went, from the API's own timestamps (whole seconds): each Job, each Pod's container."""
    pods = json.loads(plane.kubectl("get", "pods", "-n", namespace, "-l", f"videojob.dev/name={name}",
                                    "-o", "json").stdout)["items"]  # fmt: skip
    created = min(_seconds(pod["metadata"]["creationTimestamp"]) for pod in pods)
    parts = []
    for pod in sorted(pods, key=lambda p: p["metadata"]["creationTimestamp"]):
        state = pod["status"]["containerStatuses"][0]["state"].get("terminated") or {}
        if not state:
            continue
        began, ended = _seconds(state["startedAt"]), _seconds(state["finishedAt"])
        label = pod["metadata"]["labels"].get("videojob.dev/step") or "single"
        index = pod["metadata"]["labels"].get("batch.kubernetes.io/job-completion-index")
        label += f"[{index}]" if index is not None else ""
        log = plane.kubectl("logs", pod["metadata"]["name"], "-n", namespace, check=False).stdout
        own = re.findall(r"scenes? (?:rendered|in the cache).*? in (\d+\.\d)s", log)  # the renderer's own figure
        parts.append(f"{label} created +{_seconds(pod['metadata']['creationTimestamp']) - created:.0f}s, "
                     f"ran {began - created:.0f}-{ended - created:.0f}s"
                     + (f" (render {own[-1]}s)" if own else ""))  # fmt: skip
    return "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=2, help="spec.parallelism of the fan-out (default 2)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the median is shown")
    parser.add_argument("--quality", default="low", help="low is 1 CPU per Pod (the presets)")
    args = parser.parse_args()
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
            renderer = images.renderer_image(images.base_image())
            node.load(renderer)
            for crd in sorted((REPO / "manifests" / "crd").glob("*.yaml")):
                plane.kubectl("apply", "--server-side", "-f", str(crd))
            plane.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/videojobs.videojob.dev")
            namespace = "bench"
            plane.kubectl("create", "namespace", namespace)
            wait_for(lambda: plane.kubectl("get", "sa", "default", "-n", namespace, check=False).returncode == 0, 30)
            plane.kubectl("create", "secret", "generic", S3_SECRET, "-n", namespace,
                          f"--from-literal=accessKey={minio.access_key}",
                          f"--from-literal=secretKey={minio.secret_key}")  # fmt: skip
            operator = start_operator(plane.kubeconfig, namespace, Path(state) / "operator.log", settings={
                "VIDEOJOB_RENDERER_IMAGE": renderer.ref, "VIDEOJOB_S3_ENDPOINT": f"http://{minio.pod_endpoint}",
                "VIDEOJOB_S3_BUCKET": minio.bucket, "VIDEOJOB_S3_SECRET_NAME": S3_SECRET,
            })  # fmt: skip
            figures: dict[str, list[float]] = {"1 Pod": [], f"{args.pods} Pods": []}
            video_seconds = 0.0
            for run in range(1, args.repeat + 1):
                for label, pods in (("1 Pod", 1), (f"{args.pods} Pods", args.pods)):
                    empty_the_cache(minio)
                    load = os.getloadavg()[0]
                    seconds, status = render(plane, namespace, f"sky-{pods}-{run}", pods, args.quality)
                    video_seconds = status["output"]["durationSeconds"]
                    figures[label].append(seconds)
                    print(f"run {run}, {label:>7}: {seconds:6.1f}s wall for {video_seconds:.1f}s of video "
                          f"(load average {load:.1f} at the start)", flush=True)  # fmt: skip
        finally:
            if operator is not None:
                operator.stop()
            if minio is not None:
                minio.stop()
            node.stop()
            plane.stop()
    single, fanned = (statistics.median(values) for values in figures.values())
    print(f"\n{args.quality} quality, {video_seconds:.1f}s of video, {os.cpu_count()} CPUs on this machine")
    print(f"{'':>8} {'wall s':>8} {'s per video-s':>14}")
    for label, value in (("1 Pod", single), (f"{args.pods} Pods", fanned)):
        print(f"{label:>8} {value:8.1f} {value / video_seconds:14.3f}")
    print(f"speed-up: {single / fanned:.2f}x (goal >= 1.6x with 2 Pods)")


if __name__ == "__main__":
    main()
