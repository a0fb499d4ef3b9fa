"""`hack/demo`: the main job end to end on this machine.

Expects `hack/cluster up --with-node` to have run (hack/demo does it). Then: loads the
renderer image into the node, installs the VideoJob CRD, runs the operator, applies
the Markdown sample with kubectl, follows it the way `kubectl get vj -w` would, and
downloads the video, subtitles and thumbnail from MinIO into ``out/demo/``. A real
Prometheus scrapes the operator all along (the scrape job the chart's ServiceMonitor
implies); the demo prints where it is and one query to try, and stops it at the end.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import yaml

from videojob_devenv import REPO_ROOT, images
from videojob_devenv.cli import default_state_dir
from videojob_devenv.controlplane import ControlPlane
from videojob_devenv.minio import MinioServer
from videojob_devenv.node import CTR
from videojob_devenv.nodehost import runtime_socket
from videojob_devenv.operator_process import OperatorProcess, start_operator
from videojob_devenv.processes import StartError, free_port, wait_for
from videojob_devenv.prometheus import OPERATOR, TRY_QUERY, PrometheusServer

NAMESPACE = "videojob-demo"
SAMPLE = REPO_ROOT / "manifests" / "samples" / "videojob_v1alpha1_markdown.yaml"
RENDER_TIMEOUT = 900


def _say(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def _load_renderer_image(state_dir: Path) -> images.Image:
    image = images.renderer_image()
    socket = runtime_socket(state_dir / "node")
    listed = subprocess.run(
        [CTR, f"--address={socket}", "--namespace=k8s.io", "images", "list", "--quiet"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if image.ref not in listed:
        subprocess.run(
            [CTR, f"--address={socket}", "--namespace=k8s.io", "images", "import", str(image.archive)],
            capture_output=True,
            text=True,
            check=True,
        )
    print(f"{image.ref} is on the node ({image.size / 2**30:.1f} GiB)")
    return image


def _start_operator(
    plane: ControlPlane, minio: dict, image: images.Image, log: Path, metrics_port: int
) -> OperatorProcess:
    pod_endpoint = minio.get("pod_endpoint")
    if not pod_endpoint:
        raise StartError("MinIO is not reachable from Pods: run `hack/cluster down` then `hack/cluster up --with-node`")
    operator = start_operator(
        plane.kubeconfig,
        NAMESPACE,
        log,
        settings={
            "VIDEOJOB_RENDERER_IMAGE": image.ref,
            "VIDEOJOB_S3_ENDPOINT": f"http://{pod_endpoint}",
            "VIDEOJOB_S3_BUCKET": minio["bucket"],
            "VIDEOJOB_S3_SECRET_NAME": "videojob-s3",
            # The operator's own keys: retention Delete removes outputs through a finalizer.
            "VIDEOJOB_S3_ACCESS_KEY": minio["access_key"],
            "VIDEOJOB_S3_SECRET_KEY": minio["secret_key"],
            "VIDEOJOB_METRICS_PORT": str(metrics_port),
        },
    )
    print(f"operator live in {operator.started_in:.1f}s (log: {log})")
    return operator


def _follow(plane: ControlPlane, name: str) -> dict:
    """Print each change of phase/progress/stage, like `kubectl get vj -w`; return the final object."""
    printed: list[str] = []

    def finished() -> dict | None:
        videojob = json.loads(plane.kubectl("get", "vj", name, "-n", NAMESPACE, "-o", "json").stdout)
        status = videojob.get("status") or {}
        line = f"{status.get('phase', 'Pending'):10} {status.get('progress', 0):>5.1f}%  {status.get('stage', '')}"
        if line not in printed[-1:]:
            print(f"  {time.strftime('%H:%M:%S')}  {line}", flush=True)
            printed.append(line)
        return videojob if status.get("phase") in ("Succeeded", "Failed", "Cancelled") else None

    try:
        return wait_for(finished, RENDER_TIMEOUT, f"vj/{name} to finish", interval=0.5)
    except TimeoutError as error:
        raise StartError(f"{error}; see `kubectl describe vj {name} -n {NAMESPACE}`") from None


def _download(minio: dict, output: dict, name: str) -> list[Path]:
    from minio import Minio

    client = Minio(minio["endpoint"], access_key=minio["access_key"], secret_key=minio["secret_key"], secure=False)
    target = REPO_ROOT / "out" / "demo"
    target.mkdir(parents=True, exist_ok=True)
    keys = [output["key"], *(output.get("subtitles") or {}).values()]
    if output.get("thumbnail"):
        keys.append(output["thumbnail"])
    saved = []
    for key in keys:
        path = target / f"{name}{Path(key).suffix}"
        client.fget_object(output["bucket"], key, str(path))
        saved.append(path)
    return saved


def _show_query(prometheus: PrometheusServer) -> None:
    """Answer the suggested query once the operator's last state is scraped: what the curl line would print."""
    prometheus.wait_scraped(OPERATOR)
    wait_for(lambda: prometheus.query(TRY_QUERY), 30, f"Prometheus to answer {TRY_QUERY}", interval=1.0)
    time.sleep(6)  # one more 5 s scrape, so the finished video is counted
    answer = ", ".join(f"{row['metric'].get('phase', '?')}={row['value'][1]}" for row in prometheus.query(TRY_QUERY))
    print(f"\n{TRY_QUERY} in Prometheus: {answer}\n  (Prometheus stops with the demo; the cluster stays up)")


def main() -> int:
    state_dir = default_state_dir()
    plane = ControlPlane.attach(state_dir)
    minio = MinioServer.status(state_dir)
    if minio is None or not minio["running"]:
        print("error: MinIO is not running: run `hack/cluster up --with-node` first", file=sys.stderr)
        return 2
    operator = None
    prometheus = None
    try:
        _say("Renderer image on the node")
        image = _load_renderer_image(state_dir)

        _say("VideoJob API")
        plane.kubectl("apply", "--server-side", "-f", str(REPO_ROOT / "manifests" / "crd"))
        plane.kubectl(
            "wait", "--for=condition=Established", "--timeout=60s", "-f", str(REPO_ROOT / "manifests" / "crd")
        )
        plane.kubectl("create", "namespace", NAMESPACE, check=False)
        secret = plane.kubectl(
            "create",
            "secret",
            "generic",
            "videojob-s3",
            "-n",
            NAMESPACE,
            "--dry-run=client",
            "-o",
            "yaml",
            f"--from-literal=accessKey={minio['access_key']}",
            f"--from-literal=secretKey={minio['secret_key']}",
        ).stdout
        plane.kubectl("apply", "-f", "-", input=secret)

        _say("Operator")
        metrics_port = free_port()
        operator = _start_operator(plane, minio, image, state_dir / "logs" / "operator.log", metrics_port)

        _say("Prometheus")
        prometheus = PrometheusServer(
            state_dir / "prometheus", {OPERATOR: [f"127.0.0.1:{metrics_port}"]}, interval="5s", tie_to_parent=True
        )
        prometheus.start()
        print(prometheus.try_this(), flush=True)

        sample = yaml.safe_load(SAMPLE.read_text())
        name = sample["metadata"]["name"]
        _say(f"kubectl apply -f {SAMPLE.relative_to(REPO_ROOT)} -n {NAMESPACE}")
        plane.kubectl("delete", "vj", name, "-n", NAMESPACE, "--ignore-not-found", "--wait=true", timeout=120)
        plane.kubectl("apply", "-n", NAMESPACE, "-f", str(SAMPLE))
        videojob = _follow(plane, name)
        status = videojob["status"]
        if status["phase"] != "Succeeded":
            failure = status.get("failure") or {}
            print(
                f"error: vj/{name} {status['phase']}: {failure.get('reason')}: {failure.get('message')}",
                file=sys.stderr,
            )
            return 1

        _say("Result")
        output = status["output"]
        for path in _download(minio, output, name):
            print(f"  {path.relative_to(REPO_ROOT)}  ({path.stat().st_size / 1024:.0f} KiB)")
        print(
            f"  {output['durationSeconds']:.1f} s of video, sha256 {output['sha256'][:16]}..., "
            f"s3://{output['bucket']}/{output['key']}"
        )
        if prometheus is not None:
            _show_query(prometheus)
        print(
            f"\nThe cluster stays up: export KUBECONFIG={plane.kubeconfig}; kubectl describe vj {name} -n {NAMESPACE}\n"
            f"Stop everything with: hack/cluster down"
        )
        return 0
    except (StartError, images.ImageError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", "") or ""
        print(f"error: {error} {detail.strip()}", file=sys.stderr)
        return 2
    finally:
        if prometheus is not None:
            prometheus.stop()
        if operator is not None:
            operator.stop()


if __name__ == "__main__":
    sys.exit(main())
