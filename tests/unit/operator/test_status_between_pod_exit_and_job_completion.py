"""The moment between the renderer's exit and the Job controller marking the Job Complete.

The Pod has Succeeded but the Job has no Complete condition yet (about a second on a real
node). A user watching `kubectl get vj -w` must not see the render fall back to Pending.
"""

from videojob.operator.status import Observation, compute_status


def test_finished_pod_keeps_the_renderers_last_stage_until_the_job_completes(kube):
    finished = kube.pod(phase="Succeeded", state=kube.terminated(0, reason="Completed", message=kube.result_message()))
    seen = Observation(
        now=kube.NOW,
        job=kube.job(active=0),
        pods=[finished],
        progress=kube.progress(phase="Uploading", percent=100, stage="Done", eta=None),
    )
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
