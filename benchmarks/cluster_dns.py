"""Cluster DNS answer latency on the local node, through the kube-dns Service against the CoreDNS Pod itself.

A Pod on the base image sends the same A query for ``kubernetes.default.svc.cluster.local``
(answered by CoreDNS's kubernetes plugin, then its cache) over UDP, alternately to the
``kube-dns`` ClusterIP (kube-proxy's DNAT in the node's network namespace) and to the CoreDNS
Pod's own IP (the baseline, in the same run), and prints both side by side; then the same
for ``getaddrinfo`` through the Pod's resolv.conf (search path, as applications resolve).

    PYTHONSAFEPATH=1 .venv/bin/python -P benchmarks/cluster_dns.py [--queries 500]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from videojob_devenv import clusterdns, images
from videojob_devenv.controlplane import CLUSTER_DNS_IP, ControlPlane
from videojob_devenv.node import Node
from videojob_devenv.processes import wait_for

PROBE = """
import json, random, socket, statistics, struct, sys, time
servers, count = sys.argv[1].split(","), int(sys.argv[2])
name = b"".join(bytes([len(part)]) + part for part in b"kubernetes.default.svc.cluster.local".split(b".")) + b"\\0"

def ask(server):
    ident = random.randrange(1 << 16)
    query = struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + name + struct.pack(">HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        began = time.perf_counter()
        sock.sendto(query, (server, 53))
        answer = sock.recv(512)
        elapsed = time.perf_counter() - began
    assert answer[:2] == query[:2] and answer[3] & 0x0F == 0, answer  # our id, NOERROR
    return elapsed * 1000

def summary(times):
    times = sorted(times)
    return {"median": statistics.median(times), "p95": times[int(len(times) * 0.95)], "n": len(times)}

for server in servers:
    ask(server)  # warm: the cache and conntrack
figures = {server: [] for server in servers}
for _ in range(count):
    for server in servers:
        figures[server].append(ask(server))
resolver = []
for _ in range(count):
    began = time.perf_counter()
    socket.gethostbyname("kubernetes.default")
    resolver.append((time.perf_counter() - began) * 1000)
print(json.dumps({**{server: summary(times) for server, times in figures.items()}, "getaddrinfo": summary(resolver)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=500)
    args = parser.parse_args()
    base = images.base_image()
    with tempfile.TemporaryDirectory(prefix="vj-bench-") as state:
        plane = ControlPlane(Path(state) / "plane")
        plane.start()
        node = Node(plane, Path(state) / "node")
        try:
            node.start()
            node.load(base)
            pod_ip = plane.kubectl(
                "-n",
                clusterdns.NAMESPACE,
                "get",
                "pods",
                "-l",
                "k8s-app=kube-dns",
                "-o",
                "jsonpath={.items[0].status.podIP}",
            ).stdout.strip()
            plane.kubectl(
                "run",
                "dns-bench",
                f"--image={base.ref}",
                "--image-pull-policy=IfNotPresent",
                "--restart=Never",
                "--",
                "python3",
                "-c",
                PROBE,
                f"{CLUSTER_DNS_IP},{pod_ip}",
                str(args.queries),
            )
            wait_for(
                lambda: (
                    plane.kubectl("get", "pod", "dns-bench", "-o", "jsonpath={.status.phase}").stdout
                    in ("Succeeded", "Failed")
                ),
                300,
                what="the DNS benchmark Pod",
                interval=0.25,
            )
            figures = json.loads(plane.kubectl("logs", "dns-bench").stdout)
        finally:
            node.stop()
            plane.stop()
    labels = {
        CLUSTER_DNS_IP: f"kube-dns Service {CLUSTER_DNS_IP}",
        pod_ip: f"CoreDNS Pod {pod_ip} (baseline)",
        "getaddrinfo": "getaddrinfo via resolv.conf",
    }
    print(f"{'A query, kubernetes.default.svc.cluster.local':48} {'median ms':>10} {'p95 ms':>8} {'n':>6}")
    for key, label in labels.items():
        row = figures[key]
        print(f"{label:48} {row['median']:10.3f} {row['p95']:8.3f} {row['n']:6}")
    overhead = figures[CLUSTER_DNS_IP]["median"] - figures[pod_ip]["median"]
    print(f"kube-proxy's DNAT adds {overhead * 1000:.0f} us to the median answer")


if __name__ == "__main__":
    main()
