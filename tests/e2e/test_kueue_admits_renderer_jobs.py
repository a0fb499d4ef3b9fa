"""Kueue for real: its manager (built from sigs.k8s.io/kueue v0.17.0) admits renderer Jobs by their queue label.

Kueue runs as a process against the same control plane as the node (hack/devenv/kueue.py),
with its own CRDs and webhooks: its mutating webhook suspends each queue-labelled Job
the operator creates, and it resumes one when the ClusterQueue has CPU for it. The
ClusterQueue here holds one CPU, a low-quality render asks for one, so of two VideoJobs
one renders while the other shows Queued with Kueue's reason, and renders after.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from support import videojob_manifest, wait_for
from support.node_operator import start_node_operator
from videojob_devenv.kueue import Kueue
from videojob_devenv.processes import StartError

QUEUE = "renders"


@pytest.fixture(scope="module")
def kueue(kube_cluster, kube_node, tmp_path_factory) -> Iterator[Kueue]:
    manager = Kueue(kube_cluster, tmp_path_factory.mktemp("kueue"))
    try:
        manager.start()
    except StartError as error:
        pytest.fail(f"Kueue did not start: {error}", pytrace=False)
    yield manager
    manager.stop()


@pytest.fixture
def one_cpu_queue(kube_cluster, kueue, namespace) -> Iterator[str]:
    """A ResourceFlavor, a ClusterQueue with a quota of one CPU, and the namespace's LocalQueue on it."""
    cluster_queue = f"one-cpu-{namespace}"[:63]
    objects = [
        {"apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "ResourceFlavor", "metadata": {"name": "node"}},
        {
            "apiVersion": "kueue.x-k8s.io/v1beta2",
            "kind": "ClusterQueue",
            "metadata": {"name": cluster_queue},
            "spec": {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
                "resourceGroups": [
                    {
                        "coveredResources": ["cpu", "memory"],
                        "flavors": [
                            {
                                "name": "node",
                                "resources": [
                                    {"name": "cpu", "nominalQuota": "1"},
                                    {"name": "memory", "nominalQuota": "4Gi"},
                                ],
                            }
                        ],
                    }
                ],
            },
        },
        {
            "apiVersion": "kueue.x-k8s.io/v1beta2",
            "kind": "LocalQueue",
            "metadata": {"name": QUEUE, "namespace": namespace},
            "spec": {"clusterQueue": cluster_queue},
        },
    ]
    for item in objects:
        kube_cluster.kubectl("apply", "-f", "-", input=json.dumps(item))
    yield cluster_queue
    kube_cluster.kubectl("delete", "clusterqueue", cluster_queue, "--wait=false", check=False)


@pytest.fixture
def operator(kube_cluster, videojob_crd, namespace, node_minio, renderer_image, tmp_path):
    process = start_node_operator(kube_cluster, namespace, node_minio, renderer_image, tmp_path / "operator.log")
    yield process
    process.stop()


def _videojob(kube_cluster, namespace: str, name: str) -> dict:
    return json.loads(kube_cluster.kubectl("get", "vj", name, "-n", namespace, "-o", "json").stdout)


def _condition(status: dict, type_: str) -> dict:
    return next((c for c in status.get("conditions") or [] if c["type"] == type_), {})


def test_a_cpu_quota_admits_one_render_and_queues_the_next_with_kueues_reason(
    kube_cluster, namespace, one_cpu_queue, operator, kueue
):
    for name in ("first", "second"):
        manifest = videojob_manifest(name, source={"markdown": f"# {name}\n\nOne CPU at a time.\n"}, queueName=QUEUE)
        kube_cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(manifest))

    def one_runs_one_waits() -> tuple[str, dict] | None:
        statuses = {n: _videojob(kube_cluster, namespace, n).get("status") or {} for n in ("first", "second")}
        queued = [n for n, s in statuses.items() if s.get("phase") == "Queued"]
        moving = [n for n, s in statuses.items() if s.get("phase") not in (None, "Queued", "Pending")]
        return (queued[0], statuses[queued[0]]) if len(queued) == 1 and moving else None

    try:
        waiting, status = wait_for(one_runs_one_waits, 300, "one render admitted and one queued by Kueue", interval=0.5)
    except TimeoutError:
        pytest.fail(f"operator log:\n{operator.log_tail(40)}\nkueue log:\n{kueue.log_tail(40)}", pytrace=False)
    progressing = _condition(status, "Progressing")
    assert progressing["status"] == "False" and progressing["reason"].startswith("Kueue"), progressing
    assert status["stage"].startswith(f"Queued by Kueue (LocalQueue {QUEUE}): "), status["stage"]
    assert "insufficient unused quota for cpu" in status["stage"], status["stage"]
    job = json.loads(kube_cluster.kubectl("get", "job", status["jobName"], "-n", namespace, "-o", "json").stdout)
    assert job["spec"]["suspend"] is True and job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == QUEUE

    # Quota frees when the running render ends; Kueue resumes the waiting Job, and it renders too.
    def both_done() -> dict | None:
        statuses = {n: _videojob(kube_cluster, namespace, n).get("status") or {} for n in ("first", "second")}
        done = all(s.get("phase") in ("Succeeded", "Failed") for s in statuses.values())
        return statuses if done else None

    try:
        statuses = wait_for(both_done, 600, "both VideoJobs to finish", interval=1)
    except TimeoutError:
        pytest.fail(f"operator log:\n{operator.log_tail(40)}\nkueue log:\n{kueue.log_tail(40)}", pytrace=False)
    assert {n: s["phase"] for n, s in statuses.items()} == {"first": "Succeeded", "second": "Succeeded"}, statuses
    other = "first" if waiting == "second" else "second"
    assert statuses[waiting]["startTime"] >= statuses[other]["completionTime"][:19], statuses  # one CPU, one at a time
