"""`hack/demo`: videojob installed with its chart on this machine's real node, used both ways.

Expects `hack/cluster up --with-node` to have run (hack/demo does it). Then:
1. imports the control-plane and renderer images into the node (no registry);
2. `helm upgrade --install videojob charts/videojob` into the namespace ``videojob-demo``
   (Pod Security restricted): the operator and the gateway run as Pods, S3 is the dev
   MinIO on the node's bridge, its keys in the Secret ``videojob-s3``;
3. makes the namespace a gateway tenant with `videojob-gateway create-tenant`;
4. applies the Markdown sample with kubectl and submits one lecture through the gateway's
   Service (`kubectl port-forward`), follows both, and downloads both results to ``out/demo/``;
5. a real Prometheus scrapes the operator and the gateway Pods all along (the scrape jobs the
   chart's ServiceMonitors imply); the demo prints where it is and a query to try.
The release and the cluster stay up at the end; Prometheus stops with the demo.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from videojob_devenv import REPO_ROOT, images
from videojob_devenv.cli import default_state_dir
from videojob_devenv.controlplane import ControlPlane
from videojob_devenv.minio import MinioServer
from videojob_devenv.node import CTR
from videojob_devenv.nodehost import runtime_socket
from videojob_devenv.processes import StartError, wait_for
from videojob_devenv.prometheus import GATEWAY, OPERATOR, TRY_QUERY, PrometheusServer, ScrapeJob
from videojob_devenv.release import CHART_DIR, RESTRICTED_LABELS, LocalRelease, helm, port_forward

RELEASE = "videojob"
NAMESPACE = "videojob-demo"
KEYS_NAMESPACE = "videojob-demo-keys"
S3_SECRET = "videojob-s3"
SAMPLE = REPO_ROOT / "manifests" / "samples" / "videojob_v1alpha1_markdown.yaml"
OUT = REPO_ROOT / "out" / "demo"
RENDER_TIMEOUT = 900
GATEWAY_LECTURE = """# Why the sky is blue

Sunlight holds every colour. Air scatters blue light far more than red.

# Sunsets

- the light crosses more air
- the blue is scattered away
- red and orange are left
"""
GATEWAY_QUERY = "sum by (route, status) (videojob_gateway_requests_total)"
TERMINAL = ("Succeeded", "Failed", "Cancelled")


def _say(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def _on_node(state_dir: Path, image: images.Image) -> images.Image:
    socket = runtime_socket(state_dir / "node")
    ctr = [CTR, f"--address={socket}", "--namespace=k8s.io", "images"]
    listed = subprocess.run([*ctr, "list", "--quiet"], capture_output=True, text=True, check=True).stdout.split()
    if image.ref not in listed:
        subprocess.run([*ctr, "import", str(image.archive)], capture_output=True, text=True, check=True)
    print(f"{image.ref} is on the node ({image.size / 2**20:.0f} MiB)")
    return image


def _install(plane: ControlPlane, minio: dict, controlplane: images.Image, renderer: images.Image) -> float:
    pod_endpoint = minio.get("pod_endpoint")
    if not pod_endpoint:
        raise StartError("MinIO is not reachable from Pods: run `hack/cluster down` then `hack/cluster up --with-node`")
    plane.kubectl("create", "namespace", NAMESPACE, check=False)
    plane.kubectl("label", "namespace", NAMESPACE, "--overwrite", *RESTRICTED_LABELS)
    secret = plane.kubectl(
        "create", "secret", "generic", S3_SECRET, "-n", NAMESPACE, "--dry-run=client", "-o", "yaml",
        f"--from-literal=accessKey={minio['access_key']}", f"--from-literal=secretKey={minio['secret_key']}",
    ).stdout  # fmt: skip
    plane.kubectl("apply", "-f", "-", input=secret)
    values = LocalRelease(
        controlplane=controlplane,
        renderer=renderer,
        s3_endpoint=f"http://{pod_endpoint}",
        bucket=minio["bucket"],
        s3_secret=S3_SECRET,
        watch_namespaces=[NAMESPACE],
        keys_namespace=KEYS_NAMESPACE,
    ).sets()
    began = time.monotonic()
    print(f"helm upgrade --install {RELEASE} charts/videojob -n {NAMESPACE} --wait", flush=True)
    helm(
        plane.kubeconfig, NAMESPACE, "upgrade", "--install", RELEASE, str(CHART_DIR), "--wait", "--timeout=10m",
        *[f"--set={value}" for value in values],
    )  # fmt: skip
    # Helm never upgrades crds/: a VideoJob CRD from an earlier checkout is brought up to date here.
    plane.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(CHART_DIR / "crds"))
    return time.monotonic() - began


def _tenant_key(plane: ControlPlane) -> str:
    """`videojob-gateway create-tenant`, run as the admin, for this release's names; the key it prints."""
    env = os.environ | {
        "KUBECONFIG": str(plane.kubeconfig),
        "PYTHONSAFEPATH": "1",
        "VIDEOJOB_GATEWAY_KEYS_NAMESPACE": KEYS_NAMESPACE,
        "VIDEOJOB_GATEWAY_SERVICE_ACCOUNT_NAMESPACE": NAMESPACE,
        "VIDEOJOB_GATEWAY_SERVICE_ACCOUNT_NAME": f"{RELEASE}-gateway",
        "VIDEOJOB_GATEWAY_TENANT_CLUSTER_ROLE": f"{RELEASE}-gateway-tenant",
    }
    done = subprocess.run(
        [sys.executable, "-P", "-m", "videojob.api", "create-tenant", NAMESPACE, "--max-videos", "20"],
        capture_output=True, text=True, env=env, timeout=200,
    )  # fmt: skip
    if done.returncode != 0:
        raise StartError(f"create-tenant failed: {done.stderr.strip()}")
    return done.stdout.strip()


def _pod_targets(plane: ControlPlane, component: str, port_name: str) -> list[str]:
    """The Pods' address:port of the named port: what a ServiceMonitor's endpoints resolve to."""
    pods = json.loads(
        plane.kubectl(
            "get", "pods", "-n", NAMESPACE, "-l", f"app.kubernetes.io/component={component}", "-o", "json"
        ).stdout
    )["items"]
    targets = []
    for pod in pods:
        if pod["status"].get("phase") != "Running" or pod["metadata"].get("deletionTimestamp"):
            continue
        for container in pod["spec"]["containers"]:
            for port in container.get("ports", []):
                if port.get("name") == port_name:
                    targets.append(f"{pod['status']['podIP']}:{port['containerPort']}")
    return targets


def _api(url: str, key: str, method: str = "GET", body: dict | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def _follow(plane: ControlPlane, names: list[str]) -> dict[str, dict]:
    """Print each change of phase/progress/stage of every VideoJob, like `kubectl get vj -w`."""
    last: dict[str, str] = {}
    final: dict[str, dict] = {}

    def all_finished() -> bool:
        listed = json.loads(plane.kubectl("get", "vj", *names, "-n", NAMESPACE, "-o", "json").stdout)["items"]
        for videojob in listed:
            name, status = videojob["metadata"]["name"], videojob.get("status") or {}
            line = f"{status.get('phase', 'Pending'):10} {status.get('progress', 0):>5.1f}%  {status.get('stage', '')}"
            if last.get(name) != line:
                print(f"  {time.strftime('%H:%M:%S')}  {name:28} {line}", flush=True)
                last[name] = line
            if status.get("phase") in TERMINAL:
                final[name] = videojob
        return len(final) == len(names)

    try:
        wait_for(all_finished, RENDER_TIMEOUT, f"{', '.join(names)} to finish", interval=0.5)
    except TimeoutError as error:
        raise StartError(f"{error}; see `kubectl describe vj -n {NAMESPACE}`") from None
    return final


def _download_from_s3(minio: dict, output: dict, name: str) -> list[Path]:
    from minio import Minio

    client = Minio(minio["endpoint"], access_key=minio["access_key"], secret_key=minio["secret_key"], secure=False)
    keys = [output["key"], *(output.get("subtitles") or {}).values()]
    if output.get("thumbnail"):
        keys.append(output["thumbnail"])
    saved = []
    for key in keys:
        path = OUT / f"{name}{Path(key).suffix}"
        client.fget_object(output["bucket"], key, str(path))
        saved.append(path)
    return saved


def _download_through_gateway(url: str, key: str, video_id: str) -> list[Path]:
    """What a user's client does: the content route's presigned URL, fetched without the API key."""
    saved = []
    for variant, suffix in (("video", ".mp4"), ("vtt", ".vtt"), ("srt", ".srt"), ("thumbnail", ".png")):
        link = _api(f"{url}/v1/videos/{video_id}/content?variant={variant}&redirect=false", key)["url"]
        path = OUT / f"{video_id}{suffix}"
        with urllib.request.urlopen(link, timeout=60) as response:
            path.write_bytes(response.read())
        saved.append(path)
    return saved


def _show_queries(prometheus: PrometheusServer) -> None:
    """Answer the suggested queries once the final state is scraped: what the curl lines would print."""
    for job in (OPERATOR, GATEWAY):
        prometheus.wait_scraped(job)
    wait_for(lambda: prometheus.query(TRY_QUERY), 30, f"Prometheus to answer {TRY_QUERY}", interval=1.0)
    time.sleep(6)  # one more 5 s scrape, so the finished videos are counted
    phases = ", ".join(f"{r['metric'].get('phase', '?')}={r['value'][1]}" for r in prometheus.query(TRY_QUERY))
    print(f"\n{TRY_QUERY} in Prometheus: {phases}")
    rows = prometheus.query(GATEWAY_QUERY)
    shown = ", ".join(f"{r['metric'].get('route')} {r['metric'].get('status')}={r['value'][1]}" for r in rows[:6])
    query = urllib.parse.urlencode({"query": GATEWAY_QUERY})
    print(f"{GATEWAY_QUERY}: {shown}\n  try: curl -s '{prometheus.url}/api/v1/query?{query}'")
    print("  (Prometheus stops with the demo; the release and the cluster stay up)")


def main() -> int:
    state_dir = default_state_dir()
    plane = ControlPlane.attach(state_dir)
    minio = MinioServer.status(state_dir)
    if minio is None or not minio["running"]:
        print("error: MinIO is not running: run `hack/cluster up --with-node` first", file=sys.stderr)
        return 2
    prometheus = None
    try:
        _say("Images on the node")
        base = images.base_image()
        renderer = _on_node(state_dir, images.renderer_image(base))
        controlplane = _on_node(state_dir, images.controlplane_image(base))

        _say(f"helm install: the operator and the gateway as Pods in {NAMESPACE}")
        installed_in = _install(plane, minio, controlplane, renderer)
        print(f"release {RELEASE} ready in {installed_in:.1f}s")
        plane.kubectl("delete", "vj", "--all", "-n", NAMESPACE, "--wait=true", timeout=180)  # an earlier demo's
        key = _tenant_key(plane)
        print(f"tenant {NAMESPACE}: API key made with `videojob-gateway create-tenant`")

        _say("Prometheus")
        targets: dict[ScrapeJob, list[str]] = {
            OPERATOR: _pod_targets(plane, "operator", OPERATOR.port_name),
            GATEWAY: _pod_targets(plane, "gateway", GATEWAY.port_name),
        }
        prometheus = PrometheusServer(state_dir / "prometheus", targets, interval="5s", tie_to_parent=True)
        prometheus.start()
        print(prometheus.try_this(), flush=True)

        sample = yaml.safe_load(SAMPLE.read_text())
        OUT.mkdir(parents=True, exist_ok=True)
        with port_forward(plane.kubeconfig, NAMESPACE, f"svc/{RELEASE}-gateway", 80) as gateway_url:
            _say(f"kubectl apply -f {SAMPLE.relative_to(REPO_ROOT)} -n {NAMESPACE}")
            plane.kubectl("apply", "-n", NAMESPACE, "-f", str(SAMPLE))
            _say(f"POST {gateway_url}/v1/videos (kubectl port-forward svc/{RELEASE}-gateway)")
            video = _api(f"{gateway_url}/v1/videos", key, "POST", {"markdown": GATEWAY_LECTURE, "quality": "low"})
            print(f"video {video['id']}: {video['status']}")

            _say("Following both")
            names = [sample["metadata"]["name"], video["id"]]
            final = _follow(plane, names)
            failed = [n for n in names if final[n]["status"]["phase"] != "Succeeded"]
            for name in failed:
                failure = final[name]["status"].get("failure") or {}
                print(f"error: vj/{name}: {failure.get('reason')}: {failure.get('message')}", file=sys.stderr)
            if failed:
                return 1

            _say(f"Results in {OUT.relative_to(REPO_ROOT)}/")
            answered = _api(f"{gateway_url}/v1/videos/{video['id']}", key)
            print(f"  the gateway says {video['id']} is {answered['status']} ({answered['progress']}%)")
            saved = _download_from_s3(minio, final[names[0]]["status"]["output"], names[0])
            saved += _download_through_gateway(gateway_url, key, video["id"])
            for path in saved:
                size = path.stat().st_size
                shown = f"{size / 1024:.0f} KiB" if size >= 10 * 1024 else f"{size} bytes"
                print(f"  {path.relative_to(REPO_ROOT)}  ({shown})")
        _show_queries(prometheus)
        print(
            f"\nThe release stays up: export KUBECONFIG={plane.kubeconfig}\n"
            f"  kubectl -n {NAMESPACE} port-forward svc/{RELEASE}-gateway 8000:80   # the web page on :8000\n"
            f"  helm uninstall {RELEASE} -n {NAMESPACE}   # keeps the CRD, the VideoJobs and the outputs\n"
            f"Stop everything with: hack/cluster down"
        )
        return 0
    except (StartError, images.ImageError, subprocess.CalledProcessError, RuntimeError, OSError) as error:
        detail = getattr(error, "stderr", "") or ""
        print(f"error: {error} {detail.strip()}", file=sys.stderr)
        return 2
    finally:
        if prometheus is not None:
            prometheus.stop()


if __name__ == "__main__":
    sys.exit(main())
