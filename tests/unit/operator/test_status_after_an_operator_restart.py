"""A restarted operator has lost its in-memory progress: until it re-reads the renderer's log, the
status it last wrote still holds. Found by the operator-SIGKILL chaos test (tests/e2e/test_chaos_*):
a render at Scripting went back to Pending after each restart."""

from videojob.operator.status import Observation, compute_status

JOB = "lesson-5b2d0e56-1"
RENDERING = {"phase": "Rendering", "progress": 40, "stage": "Rendering scene 2 of 5", "attempts": 1, "jobName": JOB}


def test_a_running_render_keeps_its_phase_and_progress_before_the_first_progress_line(kube):
    seen = Observation(now=kube.NOW, job=kube.job(active=1), pods=[kube.pod(phase="Running")], progress=None)
    status = compute_status(kube.videojob(status=RENDERING), seen)
    assert (status["phase"], status["progress"], status["stage"]) == ("Rendering", 40, "Rendering scene 2 of 5")


def test_a_new_pod_after_a_failure_still_starts_from_pending(kube):
    retry = kube.pod(name="lesson-5b2d0e56-1-fghij", phase="Running", created="2026-11-21T10:02:00Z")
    failed = kube.pod(phase="Failed", state=kube.terminated(75))
    seen = Observation(now=kube.NOW, job=kube.job(active=1, failed=1), pods=[failed, retry], progress=None)
    status = compute_status(kube.videojob(status=RENDERING), seen)
    assert status["phase"] == "Pending" and status["attempts"] == 2


def test_a_render_whose_pod_is_not_listed_again_yet_keeps_its_phase(kube):
    # Seen twice by the SIGKILL chaos test: the VideoJob reconciled before the Pod index was refilled.
    seen = Observation(now=kube.NOW, job=kube.job(active=1), pods=[], progress=None)
    status = compute_status(kube.videojob(status=RENDERING), seen)
    assert (status["phase"], status["progress"], status["stage"]) == ("Rendering", 40, "Rendering scene 2 of 5")


def test_a_render_whose_pod_finished_while_the_operator_was_down_keeps_its_phase(kube):
    assembling = {"phase": "Assembling", "progress": 85, "stage": "Assembling video", "attempts": 1, "jobName": JOB}
    seen = Observation(now=kube.NOW, job=kube.job(active=1), pods=[kube.pod(phase="Succeeded")], progress=None)
    status = compute_status(kube.videojob(status=assembling), seen)
    assert (status["phase"], status["progress"]) == ("Assembling", 85)


def test_a_bigger_attempts_job_starts_from_pending(kube):
    seen = Observation(now=kube.NOW, job=kube.job(active=1, name="lesson-5b2d0e56-2"), pods=[], progress=None)
    status = compute_status(kube.videojob(status=RENDERING), seen)
    assert status["phase"] == "Pending"
