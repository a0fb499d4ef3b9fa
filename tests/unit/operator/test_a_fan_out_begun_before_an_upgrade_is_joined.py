"""The upgrade gap: a fan-out the previous operator version started, whose shares finish under this one.

That version's renderer drew every share (each index writes share/v1) and left the join to an
assembly Job ``<shares Job>a`` of one Pod. Its shares Job looks like today's (same labels, same
env); what tells it is that every index exited 0 and none wrote the Result. It must not end
Succeeded with no video: the operator makes the assembly Job as that version did, and the
VideoJob succeeds with the video that Job's Pod stored.
"""

from __future__ import annotations

import asyncio

from videojob.contract import ShareDone, Usage, encode_termination_message
from videojob.operator import fanout
from videojob.operator.builders import build_shares_job
from videojob.operator.cleanup import OutputCleaner
from videojob.operator.reconciler import Reconciler
from videojob.operator.settings import OperatorSettings
from videojob.operator.world import World

from .test_reconciler_reacts import RecordingApi


def _old_shares_done(kube):
    """The previous version's shares Job of 2 indexes, complete, each index's Pod exited 0 with share/v1."""
    videojob = kube.videojob(parallelism=2)
    job = build_shares_job(videojob, OperatorSettings(), pods=2)
    done = [kube.job_condition("SuccessCriteriaMet", "CompletionsReached"), kube.job_condition("Complete", "")]
    job |= {"status": kube.job(succeeded=2, conditions=done)["status"]}
    pods = []
    for index in range(2):
        usage = Usage(cpuSeconds=20.0, peakMemoryBytes=600 << 20, scenesRendered=3)
        message = encode_termination_message(ShareDone(index=index, shares=2, usage=usage))
        pod = kube.pod(name=f"{job['metadata']['name']}-{index}-x", phase="Succeeded", job_name=job["metadata"]["name"],
                       state=kube.terminated(0, "Completed", message=message))  # fmt: skip
        pod["metadata"]["labels"][fanout.COMPLETION_INDEX_LABEL] = str(index)
        pods.append(pod)
    return videojob, job, pods


def _reconcile(videojob, jobs, pods):
    settings, api = OperatorSettings(), RecordingApi()
    reconciler = Reconciler(settings, api, OutputCleaner(settings), lambda *event: None)
    uid = videojob["metadata"]["uid"]
    reconciler.bind(World(videojobs={uid: [videojob]}, jobs={uid: jobs}, pods={uid: pods}, priorities={}))
    asyncio.run(reconciler.reconcile(uid))
    return api


def test_shares_finished_by_the_old_renderer_get_the_assembly_job_not_a_succeeded_without_video(kube):
    videojob, shares, pods = _old_shares_done(kube)

    api = _reconcile(videojob, [shares], pods)

    made = [manifest for manifest in api.created if manifest["kind"] == "Job"]
    assert [job["metadata"]["name"] for job in made] == [shares["metadata"]["name"] + "a"]
    assembly = made[0]
    assert fanout.step(assembly) == "assembly" and "completionMode" not in assembly["spec"]
    env = {e["name"]: e.get("value") for e in assembly["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["VIDEOJOB_SHARDS"] == "2" and "VIDEOJOB_SHARD_INDEX" not in env  # every scene from the cache
    status = api.status_patches[-1][1]
    assert status["phase"] != "Succeeded" and "output" not in status, status


def test_the_videojob_succeeds_with_the_video_the_assembly_pod_stored(kube):
    videojob, shares, pods = _old_shares_done(kube)
    assembly = _reconcile(videojob, [shares], pods).created[-1]
    name = assembly["metadata"]["name"]
    joined = kube.pod(name=f"{name}-y", phase="Succeeded", job_name=name,
                      state=kube.terminated(0, "Completed", message=kube.result_message()))  # fmt: skip

    api = _reconcile(videojob, [shares, assembly | {"status": kube.job(active=0)["status"]}], [*pods, joined])

    status = api.status_patches[-1][1]
    assert (status["phase"], status["output"]["sizeBytes"]) == ("Succeeded", 1234567)
    assert [m for m in api.created if m["kind"] == "Job"] == []  # the assembly Job is not made twice
