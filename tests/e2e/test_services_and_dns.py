"""In-cluster workloads on the real node: Services through kube-proxy, names through CoreDNS,
the API server through the ``kubernetes`` Service, port-forward and Pod IPs from the host; and
two local clusters on one machine (two node slots) that each reach only their own Services."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request

import pytest

from support import wait_for
from videojob_devenv import nodenet, tools
from videojob_devenv.controlplane import (
    CLUSTER_DNS_IP,
    KUBERNETES_SERVICE_IP,
    ControlPlane,
)
from videojob_devenv.node import Node

ECHO_PORT = 8080
# Answers every GET with its first argument: which server (and which cluster) a client reached.
ECHO = """
import http.server, sys
class Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = sys.argv[1].encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("", 8080), Echo).serve_forever()
"""

# What a Pod learns about a Service by its names and its ClusterIP; kube-proxy writes a new
# Service's rules within a second or so, hence the short retry of the first request.
CLIENT = """
import json, socket, statistics, sys, time, urllib.request
service, namespace = sys.argv[1], sys.argv[2]
seen = {
    "kubernetes": socket.gethostbyname("kubernetes.default.svc.cluster.local"),
    "dns": socket.gethostbyname("kube-dns.kube-system"),
    "fqdn": socket.gethostbyname(f"{service}.{namespace}.svc.cluster.local"),
    "short": socket.gethostbyname(service),
}
try:
    seen["outside"] = socket.gethostbyname("example.com")
except socket.gaierror as error:
    seen["outside"] = f"refused: {error.strerror}"
times = []
for _ in range(20):
    began = time.perf_counter()
    socket.gethostbyname(f"{service}.{namespace}.svc.cluster.local.")
    times.append((time.perf_counter() - began) * 1000)
seen["lookup_ms"] = round(statistics.median(times), 2)
for key, url in (("by_ip", f"http://{seen['fqdn']}/"), ("by_name", f"http://{service}/")):
    for attempt in range(40):
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                seen[key] = response.read().decode()
            break
        except OSError as error:
            seen[key] = f"failed: {error}"
            time.sleep(0.25)
print(json.dumps(seen))
"""

# The in-cluster configuration any client library uses: the token and CA the kubelet mounted,
# the Service's address from the environment, and its name (the serving certificate carries both).
IN_CLUSTER = """
import json, os, ssl, urllib.request
secrets = "/var/run/secrets/kubernetes.io/serviceaccount"
token = open(f"{secrets}/token").read()
tls = ssl.create_default_context(cafile=f"{secrets}/ca.crt")
review = json.dumps({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}).encode()
host = f"{os.environ['KUBERNETES_SERVICE_HOST']}:{os.environ['KUBERNETES_SERVICE_PORT']}"
answers = {"host": host}
for base in (f"https://{host}", "https://kubernetes.default.svc"):
    request = urllib.request.Request(
        f"{base}/apis/authentication.k8s.io/v1/selfsubjectreviews",
        data=review,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, context=tls, timeout=10) as response:
        answers[base] = json.load(response)["status"]["userInfo"]["username"]
print(json.dumps(answers))
"""


def start_echo(pods, name: str, image: str, answer: str) -> dict:
    """An echo Pod behind a Service of the same name (port 80); returns the Pod once Ready."""
    pod = pods.pod_manifest(name, image, ["python3", "-c", ECHO, answer])
    pod["metadata"]["labels"] = {"app": name}
    pod["spec"]["restartPolicy"] = "Always"
    pod["spec"]["containers"][0]["readinessProbe"] = {
        "tcpSocket": {"port": ECHO_PORT},
        "periodSeconds": 1,
    }
    pods.apply(pod)
    pods.apply(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name},
            "spec": {
                "selector": {"app": name},
                "ports": [{"port": 80, "targetPort": ECHO_PORT}],
            },
        }
    )
    pods.kubectl("wait", "--for=condition=Ready", f"pod/{name}", "--timeout=90s")
    return pods.get("pod", name)


def run_client(pods, name: str, image: str, service: str) -> dict:
    pod = pods.run(name, image, ["python3", "-c", CLIENT, service, pods.namespace])
    assert pod["status"]["phase"] == "Succeeded", pods.logs(name)
    return json.loads(pods.logs(name))


def test_a_pod_finds_a_service_by_name_and_reaches_it_through_its_cluster_ip(pods, base_image):
    start_echo(pods, "echo", base_image.ref, "hello from echo")
    cluster_ip = pods.get("service", "echo")["spec"]["clusterIP"]

    seen = run_client(pods, "client", base_image.ref, "echo")

    print(f"cluster DNS: median lookup {seen['lookup_ms']} ms")  # the figure the report quotes
    assert seen["kubernetes"] == KUBERNETES_SERVICE_IP
    assert seen["dns"] == CLUSTER_DNS_IP
    assert seen["fqdn"] == seen["short"] == cluster_ip
    assert seen["by_ip"] == seen["by_name"] == "hello from echo"
    assert seen["outside"].startswith("refused"), seen  # cluster names only: nothing else is reachable


def test_a_pod_calls_the_api_server_with_its_service_account_token_and_the_cluster_ca(pods, base_image):
    pod = pods.pod_manifest("in-cluster", base_image.ref, ["python3", "-c", IN_CLUSTER])
    pod["spec"]["automountServiceAccountToken"] = True
    pods.apply(pod)

    finished = pods.wait_finished("in-cluster")

    assert finished["status"]["phase"] == "Succeeded", pods.logs("in-cluster")
    answers = json.loads(pods.logs("in-cluster"))
    identity = f"system:serviceaccount:{pods.namespace}:default"
    assert answers["host"] == f"{KUBERNETES_SERVICE_IP}:443"
    assert answers[f"https://{answers['host']}"] == answers["https://kubernetes.default.svc"] == identity


def test_port_forward_to_a_service_exec_and_the_pod_ip_answer_from_the_host(pods, base_image, kube_cluster):
    pod = start_echo(pods, "web", base_image.ref, "hello from web")

    # The API server calls the kubelet at the node IP; the kubelet has containerd run it in the Pod.
    assert pods.kubectl("exec", "web", "--", "python3", "-c", "print('exec ran')").stdout == "exec ran\n"

    with urllib.request.urlopen(f"http://{pod['status']['podIP']}:{ECHO_PORT}/", timeout=5) as response:
        assert response.read() == b"hello from web"  # the host's route into the node's namespace

    kubectl = [
        str(tools.require_binary("kubectl")),
        f"--kubeconfig={kube_cluster.kubeconfig}",
        "-n",
        pods.namespace,
    ]
    with subprocess.Popen(
        [*kubectl, "port-forward", "svc/web", ":80"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as forward:
        try:
            assert forward.stdout is not None and forward.stderr is not None
            announced = forward.stdout.readline()  # Forwarding from 127.0.0.1:PORT -> 8080
            match = re.match(r"Forwarding from 127\.0\.0\.1:(\d+) -> 8080", announced)
            assert match, f"{announced!r} {forward.stderr.read() if forward.poll() is not None else ''}"
            for _ in range(2):  # each connection is a new stream through the API server and the kubelet
                with urllib.request.urlopen(f"http://127.0.0.1:{match[1]}/", timeout=10) as response:
                    assert response.read() == b"hello from web"
        finally:
            forward.terminate()


def test_the_node_s_services_are_programmed_by_kube_proxy_in_its_own_namespace(kube_node, pods, base_image):
    start_echo(pods, "listed", base_image.ref, "listed")
    cluster_ip = pods.get("service", "listed")["spec"]["clusterIP"]

    def rules(*prefix: str) -> str:
        return subprocess.run(
            [*prefix, "iptables-save", "-t", "nat"], check=True, capture_output=True, text=True
        ).stdout

    def programmed() -> str | None:
        found = rules("nsenter", f"--net=/run/netns/{kube_node.slot.netns}")
        return found if cluster_ip in found else None

    node_rules = wait_for(programmed, 10, what=f"kube-proxy to write the rules of {cluster_ip}")
    assert "KUBE-SERVICES" in node_rules
    assert "KUBE-SERVICES" not in rules()  # the host's own tables stay as they were


# A Pod of one cluster tries the other's Service name and its Pod's address.
TRESPASS = """
import json, socket, sys
seen = {}
try:
    seen["name"] = socket.gethostbyname(sys.argv[1])
except socket.gaierror as error:
    seen["name"] = f"unknown: {error.strerror}"
try:
    socket.create_connection((sys.argv[2], 8080), timeout=3).close()
    seen["pod"] = "reached"
except OSError as error:
    seen["pod"] = f"blocked: {type(error).__name__}"
print(json.dumps(seen))
"""


@pytest.fixture
def second_cluster(tmp_path, kube_node, base_image):
    plane = ControlPlane(tmp_path / "second-plane")
    node = Node(plane, tmp_path / "second-node")
    try:
        plane.start()
        node.start()
        node.load(base_image)
        yield plane, node
    finally:
        node.stop()
        plane.stop()


def host_rules() -> str:
    return "\n".join(
        subprocess.run(["iptables-save", "-t", table], capture_output=True, text=True, check=True).stdout
        for table in ("filter", "nat")
    )


def test_two_clusters_each_reach_only_their_own_services_and_a_stopped_node_leaves_nothing(
    pods, kube_node, base_image, second_cluster
):
    plane, node = second_cluster
    assert node.slot is not None and kube_node.slot is not None and node.slot != kube_node.slot
    other = type(pods)(plane, pods.namespace)  # the same namespace name in the second cluster
    plane.kubectl("create", "namespace", pods.namespace)
    wait_for(
        lambda: plane.kubectl("get", "serviceaccount", "default", "-n", pods.namespace, check=False).returncode == 0,
        30,
        what="the second cluster's namespace to get its default ServiceAccount",
    )
    first_echo = start_echo(pods, "echo", base_image.ref, "first cluster")
    start_echo(other, "echo", base_image.ref, "second cluster")
    start_echo(pods, "only-first", base_image.ref, "only in the first")

    assert run_client(pods, "client", base_image.ref, "echo")["by_name"] == "first cluster"
    assert run_client(other, "client", base_image.ref, "echo")["by_name"] == "second cluster"
    trespass = other.run(
        "trespass",
        base_image.ref,
        ["python3", "-c", TRESPASS, "only-first", first_echo["status"]["podIP"]],
    )
    seen = json.loads(other.logs("trespass"))
    assert trespass["status"]["phase"] == "Succeeded"
    assert seen["name"].startswith("unknown"), seen
    assert seen["pod"] == "blocked: OSError", seen  # no route to the first node's Pods at all

    slot = node.slot
    node.stop()
    assert nodenet.leftovers(slot) == []
    assert slot.host_link not in host_rules()
    assert kube_node.slot.host_link in host_rules()  # the first node's network is untouched
