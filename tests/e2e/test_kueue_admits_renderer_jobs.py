"""Kueue for real: its manager (built from sigs.k8s.io/kueue v0.17.0) admits renderer Jobs by their queue label.

Kueue runs as a process against the same control plane as the node (hack/devenv/kueue.py),
with its own CRDs and webhooks: its mutating webhook suspends each queue-labelled Job
the operator creates, and it resumes one when the ClusterQueue has CPU for it. The
ClusterQueue here holds one CPU, a low-quality render asks for one, so of two VideoJobs
one renders while the other shows Queued with Kueue's reason, and renders after.

The same queue preempts by priority (``withinClusterQueue: LowerPriority``): a render in
flight is preempted by a VideoJob of a higher PriorityClass (real preemption, chosen over
deactivating the Workload because it is what takes a running render away in a shared
cluster). Kueue suspends its Job, the Job controller deletes its Pod; the VideoJob goes
back to Queued with Kueue's reason, keeps its Job and its count of attempts, and once
readmitted renders again, taking the scene it had finished from the cache.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import pytest

from support import videojob_manifest, wait_for
from support.node_operator import start_node_operator
from videojob_devenv.kueue import Kueue
from videojob_devenv.processes import StartError

QUEUE = "renders"
PRIORITIES = {"videojob-e2e-low": 100, "videojob-e2e-high": 10_000}


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
                "preemption": {"withinClusterQueue": "LowerPriority"},  # Kueue reads the Pods' PriorityClass
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


@pytest.fixture
def priority_classes(kube_cluster) -> Iterator[None]:
    for name, value in PRIORITIES.items():
        item = {
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": name},
            "value": value,
        }
        kube_cluster.kubectl("apply", "-f", "-", input=json.dumps(item))
    yield
    kube_cluster.kubectl("delete", "priorityclass", *PRIORITIES, "--wait=false", check=False)


def test_a_render_kueue_preempts_is_queued_again_keeps_its_attempt_and_reuses_its_scenes(
    kube_cluster, namespace, one_cpu_queue, priority_classes, operator, kueue
):
    # Long enough scenes that one is in the cache while the others are still being drawn when Kueue preempts.
    lecture = "\n\n".join(
        f"# Part {part}\n\nThis part of the lecture has a long paragraph of narration, so that drawing it "
        "takes a while on one CPU, and the render is still in flight when a more urgent one comes."
        for part in (1, 2, 3)
    )
    low = videojob_manifest("low", source={"markdown": lecture}, queueName=QUEUE, priorityClassName="videojob-e2e-low")
    kube_cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(low))

    def one_scene_stored() -> dict | None:
        status = _videojob(kube_cluster, namespace, "low").get("status") or {}
        drawn = re.match(r"Rendering scene (\d+)/(\d+)", status.get("stage") or "")
        return status if drawn and 0 < int(drawn[1]) < int(drawn[2]) else None

    def fail(what: str) -> None:
        pytest.fail(f"{what}\noperator log:\n{operator.log_tail(40)}\nkueue log:\n{kueue.log_tail(40)}", pytrace=False)

    try:
        before = wait_for(one_scene_stored, 300, "the low-priority render to store a scene", interval=0.3)
    except TimeoutError:
        fail("the low-priority render never had a scene stored with more to draw")
    high = videojob_manifest("high", queueName=QUEUE, priorityClassName="videojob-e2e-high")
    kube_cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(high))

    seen: list[dict] = []  # every status of "low" polled from here on

    def low_status() -> dict:
        status = _videojob(kube_cluster, namespace, "low").get("status") or {}
        seen.append(status)
        return status

    def requeued() -> dict | None:
        status = low_status()
        return status if status.get("phase") == "Queued" else None

    try:
        queued = wait_for(requeued, 120, "low to be preempted", interval=0.3)
    except TimeoutError:
        fail(f"the running render was not preempted; its phases: {[s.get('phase') for s in seen[-5:]]}")
    progressing = _condition(queued, "Progressing")
    assert progressing["reason"] == "KueuePreempted", progressing
    assert queued["stage"].startswith(f"Queued by Kueue (LocalQueue {QUEUE}) again, evicted (Preempted): "), queued
    assert queued["jobName"] == before["jobName"] and queued.get("attempts") == before.get("attempts"), queued
    assert "failure" not in queued and "estimatedCompletionTime" not in queued, queued
    job = json.loads(kube_cluster.kubectl("get", "job", queued["jobName"], "-n", namespace, "-o", "json").stdout)
    assert job["spec"]["suspend"] is True, job["spec"]

    def both_done() -> dict | None:
        statuses = {"low": low_status(), "high": _videojob(kube_cluster, namespace, "high").get("status") or {}}
        return statuses if all(s.get("phase") in ("Succeeded", "Failed") for s in statuses.values()) else None

    began = time.monotonic()
    try:
        statuses = wait_for(both_done, 600, "both VideoJobs to finish", interval=1)
    except TimeoutError:
        fail("the preempting and the preempted render did not both finish")
    low_done, high_done = statuses["low"], statuses["high"]
    assert (low_done["phase"], high_done["phase"]) == ("Succeeded", "Succeeded"), statuses
    assert not any(s.get("phase") == "Failed" or s.get("failure") for s in seen), [s.get("phase") for s in seen]
    # The same Job, readmitted: no new attempt, no retry spent; its finished scene came from the cache.
    assert low_done["jobName"] == before["jobName"] and "attemptHistory" not in low_done, low_done
    assert low_done["attempts"] == before["attempts"], (before.get("attempts"), low_done.get("attempts"))
    assert low_done["usage"]["scenesCached"] >= 1, low_done["usage"]
    assert high_done["completionTime"] <= low_done["completionTime"], statuses
    print(
        f"preempted at {before['stage']!r} (attempts {before['attempts']}); queued as {queued['stage'][:160]!r}; "
        f"readmitted and finished {time.monotonic() - began:.0f} s later with usage {low_done['usage']}"
    )
