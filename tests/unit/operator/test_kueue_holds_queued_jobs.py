"""A VideoJob with spec.queueName is Kueue's to admit: its Job waits suspended, the status says Kueue's reason.

Kueue's own objects are played here as Kueue writes them (a Workload owned by the Job, its
QuotaReserved condition); tests/e2e/test_kueue_admits_renderer_jobs.py runs the real Kueue.
"""

from __future__ import annotations

import asyncio
from typing import cast

from videojob.operator import kueue, slim
from videojob.operator.builders import build_renderer_job
from videojob.operator.cleanup import OutputCleaner
from videojob.operator.kube import ClusterApi
from videojob.operator.reconciler import Reconciler
from videojob.operator.settings import OperatorSettings
from videojob.operator.status import Observation, compute_status
from videojob.operator.world import World

QUOTA = "couldn't assign flavors to pod set main: insufficient unused quota for cpu in flavor default, 1 more needed"


def queued_job(kube, suspended=True):
    job = build_renderer_job(kube.videojob(queueName="renders"), OperatorSettings())
    job["metadata"]["uid"] = "job-uid-1"
    job["spec"]["suspend"] = suspended  # Kueue's webhook suspends it at creation
    job["status"] = {}
    return slim.job(job)


def workload(reason="Pending", message=QUOTA):
    owner = {"apiVersion": "batch/v1", "kind": "Job", "name": "lesson-5b2d0e56-1", "uid": "job-uid-1"}
    condition = {"type": "QuotaReserved", "status": "False", "reason": reason, "message": message}
    return kueue.slim_workload(
        {
            "metadata": {"name": "job-lesson-5b2d0e56-1-9f2c1", "ownerReferences": [owner]},
            "status": {"conditions": [condition]},
        }
    )


def test_a_job_kueue_holds_shows_queued_with_kueues_reason(kube) -> None:
    job = queued_job(kube)
    wait = kueue.waiting(job, workload())
    status = compute_status(kube.videojob(queueName="renders"), Observation(now=kube.NOW, job=job, kueue=wait))
    assert status["phase"] == "Queued"
    assert status["stage"] == f"Queued by Kueue (LocalQueue renders): {QUOTA}"
    progressing = next(c for c in status["conditions"] if c["type"] == "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("False", "KueuePending")


def test_once_kueue_admits_the_job_the_status_follows_its_pods(kube) -> None:
    assert kueue.waiting(queued_job(kube, suspended=False), workload()) is None
    plain = slim.job(build_renderer_job(kube.videojob(), OperatorSettings()) | {"status": {}})
    assert kueue.waiting(plain | {"spec": {"suspend": True}}, None) is None  # not Kueue's: the operator's own


def test_a_workload_not_made_yet_still_says_kueue_is_waited_for(kube) -> None:
    wait = kueue.waiting(queued_job(kube), None)
    assert wait is not None and "LocalQueue renders" in wait.stage


class Api:
    def __init__(self) -> None:
        self.created: list[dict] = []

    async def create_if_absent(self, manifest):
        self.created.append(manifest)
        return True

    async def set_job_suspend(self, *args):
        raise AssertionError("Kueue, not the operator, resumes a queued Job")

    async def patch_videojob_status(self, namespace, name, status):
        return {"metadata": {"resourceVersion": "1"}, "status": dict(status)}


def _reconciler(kube, videojobs, jobs, workloads=None, cap="1"):
    api = Api()
    settings = OperatorSettings(max_concurrent_renders=int(cap))
    # The stand-in answers only the calls these reconciles make.
    reconciler = Reconciler(settings, cast(ClusterApi, api), OutputCleaner(settings), lambda *_: None)
    reconciler.bind(
        World(
            videojobs={v["metadata"]["uid"]: [v] for v in videojobs},
            jobs=jobs,
            pods={},
            priorities={},
            workloads=workloads or {},
        )
    )
    return reconciler, api


def test_kueue_is_the_cap_for_queued_videojobs_the_operators_slots_for_the_others(kube) -> None:
    busy = kube.videojob(name="busy")
    busy["metadata"]["uid"] = "busy-uid"
    queued, plain = kube.videojob(name="queued", queueName="renders"), kube.videojob(name="plain")
    queued["metadata"]["uid"], plain["metadata"]["uid"] = "queued-uid", "plain-uid"
    reconciler, api = _reconciler(kube, [busy, queued, plain], {"busy-uid": [kube.job(active=1)]})

    asyncio.run(reconciler.reconcile("queued-uid"))
    asyncio.run(reconciler.reconcile("plain-uid"))
    jobs = [m for m in api.created if m["kind"] == "Job"]
    assert [j["metadata"]["labels"].get("kueue.x-k8s.io/queue-name") for j in jobs] == ["renders"]


def test_the_operator_never_resumes_a_job_kueue_holds(kube) -> None:
    videojob = kube.videojob(queueName="renders")
    reconciler, _ = _reconciler(kube, [videojob], {kube.UID: [queued_job(kube)]}, workloads={"job-uid-1": [workload()]})
    asyncio.run(reconciler.reconcile(kube.UID))  # would raise in set_job_suspend
    assert reconciler.videojob_of_job("job-uid-1") == kube.UID  # so Workload events find their VideoJob


PREEMPTED = "Preempted to accommodate a workload (UID: 5d1c, JobUID: 77aa) due to prioritization in the ClusterQueue"


def preempted_workload():
    """A Workload as Kueue leaves it after preempting its Job: Evicted, and its quota given back."""
    owner = {"apiVersion": "batch/v1", "kind": "Job", "name": "lesson-5b2d0e56-1", "uid": "job-uid-1"}
    conditions = [
        {"type": "Evicted", "status": "True", "reason": "Preempted", "message": PREEMPTED},
        {"type": "Preempted", "status": "True", "reason": "InClusterQueue", "message": PREEMPTED},
        {"type": "Requeued", "status": "True", "reason": "Preempted", "message": PREEMPTED},
        {"type": "QuotaReserved", "status": "False", "reason": "Pending", "message": PREEMPTED},
        {
            "type": "Admitted",
            "status": "False",
            "reason": "NoReservation",
            "message": "The workload has no reservation",
        },
    ]
    return kueue.slim_workload(
        {
            "metadata": {"name": "job-lesson-5b2d0e56-1-9f2c1", "ownerReferences": [owner]},
            "status": {"conditions": conditions},
        }
    )


def preempted_job(kube):
    """The Job once Kueue suspended it again: the Job controller deleted its Pod, counted no failure."""
    job = queued_job(kube)
    job["status"] = {
        "startTime": "2026-11-21T10:00:02Z",
        "conditions": [kube.job_condition("Suspended", "JobSuspended", "Job suspended")],
    }
    return job


def test_a_preempted_render_is_queued_again_with_kueues_reason_not_failed(kube) -> None:
    rendering = {
        "phase": "Rendering",
        "progress": 40,
        "stage": "Rendering scene 2/4",
        "estimatedCompletionTime": "2026-11-21T10:35:00Z",
        "attempts": 1,
        "jobName": "lesson-5b2d0e56-1",
    }
    videojob = kube.videojob(queueName="renders", status=rendering)
    # The renderer got SIGTERM when its Pod was deleted; the kubelet may still show it going.
    going = kube.pod(
        phase="Failed",
        state=kube.terminated(143),
        conditions=[kube.job_condition("DisruptionTarget", "PreemptionByScheduler")],
    )
    job = preempted_job(kube)
    seen = Observation(now=kube.NOW, job=job, pods=[going], kueue=kueue.waiting(job, preempted_workload()))
    status = compute_status(videojob, seen)
    assert status["phase"] == "Queued" and "failure" not in status
    assert status["stage"].startswith("Queued by Kueue (LocalQueue renders) again, evicted (Preempted): ")
    assert PREEMPTED in status["stage"] and "reusing the scenes it finished" in status["stage"]
    progressing = next(c for c in status["conditions"] if c["type"] == "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("False", "KueuePreempted")
    failed = next(c for c in status["conditions"] if c["type"] == "Failed")
    assert failed["status"] == "False"
    assert status["attempts"] == 1 and "estimatedCompletionTime" not in status  # no retry spent, no stale ETA


def test_a_preempted_render_keeps_its_job_and_the_operator_leaves_it_to_kueue(kube) -> None:
    videojob = kube.videojob(queueName="renders", status={"phase": "Rendering", "jobName": "lesson-5b2d0e56-1"})
    jobs = {kube.UID: [preempted_job(kube)]}
    reconciler, api = _reconciler(kube, [videojob], jobs, workloads={"job-uid-1": [preempted_workload()]})
    asyncio.run(reconciler.reconcile(kube.UID))  # would raise in set_job_suspend
    assert [m for m in api.created if m["kind"] == "Job"] == []  # the same attempt, no new Job
    assert reconciler.statuses.newest(videojob)["phase"] == "Queued"


def test_once_readmitted_the_workload_no_longer_says_evicted(kube) -> None:
    conditions = [
        {"type": "Evicted", "status": "False", "reason": "QuotaReserved", "message": f"Previously: {PREEMPTED}"},
        {"type": "QuotaReserved", "status": "True", "reason": "QuotaReserved", "message": "Quota reserved"},
    ]
    readmitted = kueue.slim_workload({"metadata": {"name": "w"}, "status": {"conditions": conditions}})
    assert kueue.waiting(queued_job(kube, suspended=False), readmitted) is None
    # Readmitted, still suspended for a moment: waiting for the Job to be resumed, not evicted.
    wait = kueue.waiting(queued_job(kube), readmitted)
    assert wait is not None and not wait.evicted
