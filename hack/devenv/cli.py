"""`hack/cluster` and `hack/minio`: a local development environment that outlives the command.

hack/cluster up [--no-minio] [--apiserver-port N]   start the control plane (and MinIO)
hack/cluster up --with-node                        ... plus a node (containerd, kubelet, kube-proxy and
                                                   CoreDNS, in a network namespace of its own) that runs Pods
hack/cluster open-port N                           let Pods reach a server you run on the node's gateway
hack/cluster status | down
hack/minio up [--port N] | status | down             MinIO alone (renderer work)

In-cluster workloads work as in any cluster: Services (ClusterIPs, the `kubernetes` Service
with the ServiceAccount token), names under cluster.local. From the host, reach a Service
with port-forward (through the API server and the kubelet), or a Pod by its IP:

  kubectl port-forward -n NAMESPACE svc/NAME 8080:80    then http://127.0.0.1:8080/
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from videojob_devenv import REPO_ROOT
from videojob_devenv.controlplane import CLUSTER_DNS_IP, ControlPlane
from videojob_devenv.images import ImageError
from videojob_devenv.minio import MinioServer
from videojob_devenv.nodehost import HostError
from videojob_devenv.processes import StartError
from videojob_devenv.tools import ToolError


def default_state_dir() -> Path:
    return Path(os.environ.get("VIDEOJOB_STATE_DIR", REPO_ROOT / ".state" / "cluster"))


def _minio_up(state_dir: Path, port: int | None, pod_host: str | None = None) -> None:
    saved = MinioServer.status(state_dir)
    if saved and saved["running"] and (pod_host is None or saved.get("pod_endpoint", "").startswith(f"{pod_host}:")):
        print(f"minio already up at {saved['url']}")
        return
    MinioServer.stop_saved(state_dir)  # a crashed earlier run leaves a stale record
    server = MinioServer(state_dir, port=port, tie_to_parent=False, pod_host=pod_host)
    seconds = server.start()
    print(f"minio ready in {seconds:.1f}s at {server.url} (bucket {server.bucket})")
    print(
        f"  export AWS_ACCESS_KEY_ID={server.access_key} AWS_SECRET_ACCESS_KEY={server.secret_key} "
        f"S3_ENDPOINT={server.url}"
    )
    if pod_host:
        print(f"  Pods reach it at http://{server.pod_endpoint}")


def _node_up(state_dir: Path) -> str:
    """Start the node (after cleaning up one that crashed); return its gateway address."""
    from videojob_devenv import images
    from videojob_devenv.node import Node

    node_dir = state_dir / "node"
    saved = Node.status(node_dir)
    if saved and all(saved["running"].values()):
        print(f"node {saved['name']} already up (Pods on {saved['bridge']}, gateway {saved['gateway']})")
        return saved["gateway"]
    if saved:
        print("previous node is partly down: cleaning it up and starting again")
    node = Node(ControlPlane.attach(state_dir), node_dir, tie_to_parent=False)
    seconds = node.start()
    assert node.slot is not None  # start() took a slot
    print(
        f"node {node.name} ready in {seconds:.1f}s (network namespace {node.slot.netns}, node IP {node.ip}, "
        f"Pods on {node.slot.subnet}, gateway {node.gateway}); kube-proxy and CoreDNS up"
    )
    base = images.base_image()
    node.load(base)
    print(
        f"  image {base.ref} loaded (use imagePullPolicy: IfNotPresent); more with hack/images/build, then\n"
        f"  ctr --address {node.socket} -n k8s.io images import ARCHIVE"
    )
    return node.gateway


def _cluster_up(state_dir: Path, args: argparse.Namespace) -> None:
    status = ControlPlane.status(state_dir)
    if status and all(status.values()):
        print(f"control plane already up: export KUBECONFIG={state_dir / 'kubeconfig'}")
    else:
        if status:
            print(
                f"previous control plane is partly down ({', '.join(n for n, up in status.items() if not up)}): "
                "restarting it"
            )
            ControlPlane.stop_saved(state_dir)
        plane = ControlPlane(state_dir, apiserver_port=args.apiserver_port, tie_to_parent=False)
        seconds = plane.start()
        print(f"control plane ready in {seconds:.1f}s at {plane.server}")
        print(f"  export KUBECONFIG={plane.kubeconfig}")
    gateway = _node_up(state_dir) if args.with_node else None
    if not args.no_minio:
        _minio_up(state_dir, args.minio_port, pod_host=gateway)
        minio = MinioServer.status(state_dir)
        if gateway and minio is not None:
            _open_port(state_dir, int(minio["endpoint"].rsplit(":", 1)[1]))


def _open_port(state_dir: Path, port: int) -> None:
    """Let the node's Pods reach a server of yours that listens on the bridge gateway at ``port``."""
    from videojob_devenv.node import Node
    from videojob_devenv.nodehost import Slot
    from videojob_devenv.nodenet import allow_tcp_port

    saved = Node.status(state_dir / "node")
    if saved is None:
        raise StartError("no node is running: start one with `hack/cluster up --with-node`")
    allow_tcp_port(Slot(saved["slot"]), port)
    print(f"Pods may now connect to {saved['gateway']}:{port}")


def _dns_status(state_dir: Path) -> str:
    from videojob_devenv import clusterdns

    try:
        ready = (
            ControlPlane.attach(state_dir)
            .kubectl(
                "-n",
                clusterdns.NAMESPACE,
                "get",
                f"deployment/{clusterdns.NAME}",
                "-o",
                "jsonpath={.status.readyReplicas}",
                check=False,
                timeout=10,
            )
            .stdout.strip()
        )
    except (StartError, OSError, subprocess.TimeoutExpired):
        ready = ""
    return f"running (kube-dns.{clusterdns.NAMESPACE}, {CLUSTER_DNS_IP})" if ready else "NOT RUNNING"


def main(argv: list[str] | None = None) -> int:
    summary, _commands, workloads = __doc__.split("\n\n", 2)
    parser = argparse.ArgumentParser(prog="hack/cluster", description=summary)
    parser.add_argument(
        "--state-dir", type=Path, default=default_state_dir(), help="where state, certificates and logs live"
    )
    targets = parser.add_subparsers(dest="target", required=True)
    cluster = targets.add_parser(
        "cluster", epilog=workloads + "\n", formatter_class=argparse.RawDescriptionHelpFormatter
    ).add_subparsers(dest="action", required=True)
    up = cluster.add_parser("up", help="start etcd, kube-apiserver, controller-manager, scheduler (and MinIO)")
    up.add_argument("--apiserver-port", type=int, default=None, help="fixed port (default: a free one)")
    up.add_argument("--minio-port", type=int, default=None)
    up.add_argument("--no-minio", action="store_true")
    up.add_argument("--with-node", action="store_true", help="also start containerd and a kubelet (root; see issue 3)")
    cluster.add_parser("status")
    cluster.add_parser("down")
    open_port = cluster.add_parser("open-port", help="let Pods reach a server you run on the node's gateway address")
    open_port.add_argument("port", type=int)
    minio = targets.add_parser("minio").add_subparsers(dest="action", required=True)
    minio_up = minio.add_parser("up")
    minio_up.add_argument("--port", type=int, default=None)
    minio.add_parser("status")
    minio.add_parser("down")
    args = parser.parse_args(argv)
    state_dir: Path = args.state_dir
    state_dir.mkdir(parents=True, exist_ok=True)
    try:
        if args.target == "cluster" and args.action == "up":
            _cluster_up(state_dir, args)
        elif args.action == "open-port":
            _open_port(state_dir, args.port)
        elif args.target == "minio" and args.action == "up":
            _minio_up(state_dir, args.port)
        elif args.action == "down":
            stopped = MinioServer.stop_saved(state_dir)
            if args.target == "cluster":
                from videojob_devenv.node import Node

                stopped = Node.stop_saved(state_dir / "node") or stopped
                stopped = ControlPlane.stop_saved(state_dir) or stopped
            print("stopped" if stopped else "nothing was running")
        else:
            plane = ControlPlane.status(state_dir) if args.target == "cluster" else None
            minio_state = MinioServer.status(state_dir)
            if plane is not None:
                for name, alive in plane.items():
                    print(f"{name:24} {'running' if alive else 'NOT RUNNING'}")
                print(f"KUBECONFIG={state_dir / 'kubeconfig'}")
            node_state = None
            if args.target == "cluster":
                from videojob_devenv.node import Node

                node_state = Node.status(state_dir / "node")
            if node_state is not None:
                for name, alive in node_state["running"].items():
                    print(f"{name:24} {'running' if alive else 'NOT RUNNING'}")
                print(f"{'cluster DNS':24} {_dns_status(state_dir)}")
            if minio_state is not None:
                print(f"{'minio':24} {'running' if minio_state['running'] else 'NOT RUNNING'} at {minio_state['url']}")
            if plane is None and minio_state is None:
                print("down")
                return 1
    except (StartError, ToolError, ImageError, HostError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
