"""What one VideoJob costs the API server, from its creation to a running renderer: a short version of
benchmarks/operator_10k.py that counts requests instead of timing them.

The operator counts its own requests (``videojob_operator_api_requests_total``, by verb and
resource); the test plays the kubelet's part (it binds each Pod and reports it running, see
conftest.py), against the real API server, Job controller and garbage collector. A change
that doubles the writes per VideoJob (a second status patch per event, an Event per
reconcile, a Job created twice) fails here, on the numbers a 10,000-VideoJob burst multiplies.
"""

from __future__ import annotations

import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from videojob_devenv.processes import free_port

pytestmark = pytest.mark.cluster

VIDEOJOBS = 3


def _requests(port: int) -> dict[tuple[str, str], float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    return {
        (sample.labels["verb"], sample.labels["resource"]): sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "videojob_operator_api_requests"
        for sample in family.samples
        if sample.name.endswith("_total")
    }


def test_a_videojob_costs_one_configmap_one_job_and_a_status_write_and_event_per_visible_change(
    cluster, start_operator, helpers
):
    port = free_port()
    start_operator(VIDEOJOB_METRICS_PORT=str(port))
    names = [f"counted-{index}" for index in range(VIDEOJOBS)]
    for name in names:
        cluster.videojob(name)
    for name in names:
        cluster.run_pod(cluster.wait_new_pod(cluster.wait_job(name)))
    for name in names:
        cluster.wait_status(
            name, lambda s: "waiting for its first progress event" in s.get("stage", ""), "a running renderer"
        )
        helpers.wait_for(  # Events are posted in the background: the first two at least, before counting
            lambda name=name: {"JobCreated", "Pending"} <= {e["reason"] for e in cluster.events(name)},
            15,
            f"the Events of {name}",
        )

    counted = _requests(port)
    # The VideoJobs and their renderer Jobs and Pods are listed once, at start-up, and watched from then on.
    assert counted.pop(("GET", "jobs")) == 1 and counted.pop(("GET", "pods")) == 1, counted
    assert counted.pop(("GET", "videojobs")) == 1, counted
    per_videojob = {key: value / VIDEOJOBS for key, value in counted.items() if value}
    assert all(len(cluster.jobs(name)) == 1 for name in names)
    # One create each: a reconcile that starts before the watch shows the new Job takes it as there
    # (launcher.Expectations), so no create is sent twice (it would be told 409 AlreadyExists).
    assert per_videojob.get(("POST", "configmaps"), 0) == 1, per_videojob
    assert per_videojob.get(("POST", "jobs"), 0) == 1, per_videojob
    # In this tier the Node is cordoned, so the scheduler first reports the Pod Unschedulable:
    # Pending (Job created), Queued (Unschedulable), Pending (bound), running and waiting for
    # its first progress event; one more where the Pod is seen between binding and running.
    assert per_videojob.get(("PATCH", "videojobs/status"), 0) <= 5, per_videojob
    # JobCreated and one per phase entered (Pending, Queued, Pending): what `kubectl describe vj` shows.
    assert per_videojob.get(("POST", "events"), 0) <= 4, per_videojob
    # Nothing else: no finalizer (retention Retain), no suspend patches.
    assert set(per_videojob) <= {
        ("POST", "configmaps"),
        ("POST", "jobs"),
        ("PATCH", "videojobs/status"),
        ("POST", "events"),
    }, per_videojob
