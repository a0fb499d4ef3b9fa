"""The moment between the renderer's exit and the Job controller marking the Job Complete.

The Pod has Succeeded but the Job has no Complete condition yet (one to several seconds on a
real node). A renderer that exited 0 with its Result has stored the video: the VideoJob is
Succeeded at once, and stays so, with the same completionTime, once the Job completes. A user
watching `kubectl get vj -w` must never see the render fall back to Pending.
"""

from videojob.operator.status import Observation, compute_status


def _exited(kube, message):
    return kube.pod(phase="Succeeded", state=kube.terminated(0, reason="Completed", message=message))


def test_a_renderer_that_exited_with_its_result_makes_the_videojob_succeeded_before_the_job_completes(kube):
    seen = Observation(now=kube.NOW, job=kube.job(active=1), pods=[_exited(kube, kube.result_message())],
                       progress=kube.progress(phase="Uploading", percent=100, stage="Done", eta=None))  # fmt: skip
    early = compute_status(kube.videojob(), seen)
    assert (early["phase"], early["progress"], early["output"]["sizeBytes"]) == ("Succeeded", 100, 1234567)
    assert early["completionTime"] == "2026-11-21T10:03:00Z"  # the renderer's exit, not the next Job sync
    assert {c["type"]: c["status"] for c in early["conditions"]}["Succeeded"] == "True"

    complete = kube.job(succeeded=1, conditions=[kube.job_condition("Complete", "")])
    later = compute_status(kube.videojob(status=early), Observation(now=kube.NOW, job=complete, pods=seen.pods))
    assert later == early  # nothing to write when the Job controller catches up


def test_a_renderer_that_exited_without_a_result_keeps_its_last_stage_until_the_job_completes(kube):
    seen = Observation(now=kube.NOW, job=kube.job(active=0), pods=[_exited(kube, None)],
                       progress=kube.progress(phase="Uploading", percent=100, stage="Done", eta=None))  # fmt: skip
    status = compute_status(kube.videojob(), seen)
    assert (status["phase"], status["progress"], status["stage"]) == ("Uploading", 100, "Done")


def test_a_failed_pod_awaiting_its_retry_does_not_show_the_old_stage(kube):
    failed = kube.pod(
        phase="Failed", state=kube.terminated(75, message=kube.failure_message("UploadFailed", "S3 said 503"))
    )
    seen = Observation(
        now=kube.NOW,
        job=kube.job(active=0, failed=1),
        pods=[failed],
        progress=kube.progress(phase="Uploading", percent=95, stage="Uploading video.mp4"),
    )
    status = compute_status(kube.videojob(), seen)
    assert status["phase"] == "Pending"
