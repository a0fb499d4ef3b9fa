"""Status as a pure function of the VideoJob, its Job, its Pods and the renderer's messages."""

from __future__ import annotations

from datetime import timedelta

from videojob.operator.status import Observation, compute_status, status_patch


def _conditions(status):
    return {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}


def test_waiting_for_a_render_slot_is_queued_with_its_position(kube):
    status = compute_status(kube.videojob(), Observation(now=kube.NOW, queue_position=2, queue_length=5))
    assert status["phase"] == "Queued"
    assert status["stage"] == "Queued for a render slot: position 2 of 5"
    assert status["queuePosition"] == 2
    assert _conditions(status) == {
        "Accepted": ("True", "SpecAccepted"),
        "Progressing": ("False", "WaitingForRenderSlot"),
        "Succeeded": ("False", "NotFinished"),
        "Failed": ("False", "NotFinished"),
    }


def test_running_pod_with_a_progress_event_shows_stage_progress_and_eta(kube):
    seen = Observation(now=kube.NOW, job=kube.job(active=1), pods=[kube.pod()], progress=kube.progress())
    status = compute_status(kube.videojob(), seen)
    assert status == {
        "observedGeneration": 1,
        "progress": 42,
        "jobName": "lesson-5b2d0e56-1",
        "attempts": 1,
        "startTime": "2026-11-21T10:00:02Z",
        "phase": "Rendering",
        "stage": "Rendering scene 3/7",
        "estimatedCompletionTime": "2026-11-21T10:31:30Z",
        "conditions": [
            {
                "type": "Accepted",
                "status": "True",
                "reason": "SpecAccepted",
                "message": "The spec is valid.",
                "lastTransitionTime": "2026-11-21T10:30:00Z",
                "observedGeneration": 1,
            },
            {
                "type": "Progressing",
                "status": "True",
                "reason": "RendererRunning",
                "message": "Rendering scene 3/7",
                "lastTransitionTime": "2026-11-21T10:30:00Z",
                "observedGeneration": 1,
            },
            {
                "type": "Succeeded",
                "status": "False",
                "reason": "NotFinished",
                "message": "Rendering scene 3/7",
                "lastTransitionTime": "2026-11-21T10:30:00Z",
                "observedGeneration": 1,
            },
            {
                "type": "Failed",
                "status": "False",
                "reason": "NotFinished",
                "message": "Rendering scene 3/7",
                "lastTransitionTime": "2026-11-21T10:30:00Z",
                "observedGeneration": 1,
            },
        ],
    }


def test_condition_transition_times_only_move_when_the_status_flips(kube):
    first = compute_status(
        kube.videojob(), Observation(now=kube.NOW, job=kube.job(active=1), pods=[kube.pod()], progress=kube.progress())
    )
    later = kube.NOW + timedelta(minutes=1)
    again = compute_status(
        kube.videojob(status=first),
        Observation(now=later, job=kube.job(active=1), pods=[kube.pod()], progress=kube.progress(percent=60)),
    )
    assert {c["lastTransitionTime"] for c in again["conditions"]} == {"2026-11-21T10:30:00Z"}
    assert status_patch(first, again) == {"progress": 60}


def test_success_reports_the_output_and_usage_from_the_termination_message(kube):
    done = kube.pod(phase="Succeeded", state=kube.terminated(0, "Completed", kube.result_message()))
    seen = Observation(
        now=kube.NOW,
        job=kube.job(
            succeeded=1,
            conditions=[
                kube.job_condition("SuccessCriteriaMet", "CompletionsReached"),
                kube.job_condition("Complete", "CompletionsReached"),
            ],
        ),
        pods=[done],
    )
    status = compute_status(kube.videojob(), seen)
    assert status["phase"] == "Succeeded" and status["progress"] == 100
    assert status["completionTime"] == "2026-11-21T10:03:00Z"  # when the renderer exited (the Job lags behind)
    assert status["output"] == {
        "bucket": "videos",
        "key": "outputs/team-a/lesson/x/video.mp4",
        "sizeBytes": 1234567,
        "sha256": kube.SHA,
        "durationSeconds": 61.5,
        "thumbnail": "outputs/team-a/lesson/x/thumbnail.png",
        "cached": False,
        "url": "s3://videos/outputs/team-a/lesson/x/video.mp4",
    }
    assert status["usage"]["ttsCharacters"] == 812 and status["usage"]["cpuSeconds"] == 301.5
    assert _conditions(status)["Succeeded"] == ("True", "RenderSucceeded")
    assert _conditions(status)["Failed"] == ("False", "RenderSucceeded")
    assert "failure" not in status


def _failed(kube, job_reason, pods, failed=None):
    job = kube.job(
        failed=failed if failed is not None else len(pods),
        conditions=[kube.job_condition("FailureTarget", job_reason), kube.job_condition("Failed", job_reason)],
    )
    return compute_status(kube.videojob(), Observation(now=kube.NOW, job=job, pods=pods))


def test_oom_killed_on_every_attempt_says_to_raise_the_memory_limit(kube):
    pods = [
        kube.pod(
            name=f"p{i}", phase="Failed", created=f"2026-11-21T10:0{i}:00Z", state=kube.terminated(137, "OOMKilled")
        )
        for i in range(3)
    ]
    status = _failed(kube, "BackoffLimitExceeded", pods)
    assert status["phase"] == "Failed"
    assert status["failure"]["reason"] == "OOMKilled"
    assert status["failure"]["exitCode"] == 137
    assert "(2Gi)" in status["failure"]["message"]
    assert "raise spec.resources.limits.memory or lower quality" in status["failure"]["message"].lower()
    assert _conditions(status)["Failed"] == ("True", "OOMKilled")
    assert _conditions(status)["Progressing"] == ("False", "RenderFailed")


def test_deadline_exceeded_names_the_deadline_and_what_to_change(kube):
    status = _failed(kube, "DeadlineExceeded", [kube.pod(phase="Failed", state=kube.terminated(143, "Error"))])
    assert status["failure"]["reason"] == "DeadlineExceeded"
    assert "spec.activeDeadlineSeconds (3600 s)" in status["failure"]["message"]


def test_backoff_limit_exceeded_reports_the_last_exit_reason(kube):
    pods = [
        kube.pod(name="p1", phase="Failed", created="2026-11-21T10:01:00Z", state=kube.terminated(1, "Error")),
        kube.pod(name="p2", phase="Failed", created="2026-11-21T10:02:00Z", state=kube.terminated(139, "Error")),
        kube.pod(name="p3", phase="Failed", created="2026-11-21T10:03:00Z", state=kube.terminated(75, "Error")),
    ]
    status = _failed(kube, "BackoffLimitExceeded", pods)
    assert status["failure"]["reason"] == "BackoffLimitExceeded"
    assert status["failure"]["exitCode"] == 75
    assert "failed 3 time(s)" in status["failure"]["message"]
    assert "last exit: Error with exit code 75" in status["failure"]["message"]
    assert "kubectl logs job/lesson-5b2d0e56-1" in status["failure"]["message"]
    assert status["attempts"] == 3


def test_bad_storyboard_fails_at_once_with_the_renderers_reason(kube):
    message = kube.failure_message("InvalidStoryboard", "scene 2: unknown template 'hologram'")
    status = _failed(kube, "PodFailurePolicy", [kube.pod(phase="Failed", state=kube.terminated(65, "Error", message))])
    assert status["failure"] == {
        "reason": "InvalidStoryboard",
        "message": "scene 2: unknown template 'hologram'. Bad input is never retried: "
        "fix spec.source and create the VideoJob again.",
        "exitCode": 65,
    }
    assert status["attempts"] == 1


def test_exit_65_without_a_message_is_invalid_spec(kube):
    status = _failed(
        kube, "PodFailurePolicy", [kube.pod(phase="Failed", state=kube.terminated(65, "Error", "Traceback..."))]
    )
    assert status["failure"]["reason"] == "InvalidSpec"


def test_a_transient_renderer_failure_keeps_the_renderers_reason(kube):
    message = kube.failure_message("LLMUnavailable", "the LLM endpoint answered 503 three times")
    status = _failed(
        kube, "BackoffLimitExceeded", [kube.pod(phase="Failed", state=kube.terminated(75, "Error", message))]
    )
    assert status["failure"]["reason"] == "LLMUnavailable"
    assert "503" in status["failure"]["message"] and "spec.retries=2" in status["failure"]["message"]


def test_image_pull_back_off_stays_pending_and_says_what_to_check(kube):
    waiting = {
        "waiting": {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "ghcr.io/videojob/renderer:0.1.0"'}
    }
    seen = Observation(now=kube.NOW, job=kube.job(active=1), pods=[kube.pod(phase="Pending", state=waiting)])
    status = compute_status(kube.videojob(), seen)
    assert status["phase"] == "Pending"
    assert status["failure"]["reason"] == "ImagePullBackOff"
    assert "VIDEOJOB_RENDERER_IMAGE" in status["failure"]["message"]
    assert _conditions(status)["Progressing"] == ("False", "ImagePullBackOff")
    assert _conditions(status)["Failed"] == ("False", "NotFinished")


def test_err_image_pull_is_reported_too(kube):
    waiting = {"waiting": {"reason": "ErrImagePull", "message": "manifest unknown"}}
    status = compute_status(
        kube.videojob(),
        Observation(now=kube.NOW, job=kube.job(active=1), pods=[kube.pod(phase="Pending", state=waiting)]),
    )
    assert status["failure"]["reason"] == "ErrImagePull" and "manifest unknown" in status["failure"]["message"]


def test_missing_secret_says_which_secret_to_create(kube):
    waiting = {"waiting": {"reason": "CreateContainerConfigError", "message": 'secret "videojob-s3" not found'}}
    status = compute_status(
        kube.videojob(),
        Observation(now=kube.NOW, job=kube.job(active=1), pods=[kube.pod(phase="Pending", state=waiting)]),
    )
    assert status["failure"]["reason"] == "CreateContainerConfigError"
    assert 'secret "videojob-s3" not found' in status["failure"]["message"]


def test_unschedulable_pod_is_queued_with_the_schedulers_message(kube):
    unschedulable = [
        {
            "type": "PodScheduled",
            "status": "False",
            "reason": "Unschedulable",
            "message": "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available.",
        }
    ]
    pending = kube.pod(phase="Pending", conditions=unschedulable, state={"waiting": {"reason": "ContainerCreating"}})
    status = compute_status(kube.videojob(), Observation(now=kube.NOW, job=kube.job(active=1), pods=[pending]))
    assert status["phase"] == "Queued"
    assert (
        status["stage"]
        == "Unschedulable: 0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available."
    )
    assert _conditions(status)["Progressing"] == ("False", "Unschedulable")
    assert "failure" not in status


def test_suspended_spec_gives_phase_suspended_and_keeps_progress(kube):
    videojob = kube.videojob(suspend=True, status={"phase": "Rendering", "progress": 40})
    status = compute_status(
        videojob,
        Observation(
            now=kube.NOW, job=kube.job(suspended=True, conditions=[kube.job_condition("Suspended", "JobSuspended")])
        ),
    )
    assert status["phase"] == "Suspended" and status["progress"] == 40
    assert _conditions(status)["Progressing"] == ("False", "SuspendedByUser")


def test_a_retry_after_a_failure_says_which_try_is_starting(kube):
    pods = [
        kube.pod(name="p1", phase="Failed", created="2026-11-21T10:01:00Z", state=kube.terminated(75)),
        kube.pod(
            name="p2",
            phase="Pending",
            created="2026-11-21T10:02:00Z",
            state={"waiting": {"reason": "ContainerCreating"}},
        ),
    ]
    status = compute_status(kube.videojob(), Observation(now=kube.NOW, job=kube.job(active=1, failed=1), pods=pods))
    assert status["phase"] == "Pending"
    assert status["stage"] == "Starting the renderer Pod (try 2 of 3)"


def test_invalid_spec_seen_by_the_operator_fails_without_a_job(kube):
    status = compute_status(
        kube.videojob(),
        Observation(now=kube.NOW, invalid_spec="spec.source must set exactly one of prompt, markdown or storyboard"),
    )
    assert status["phase"] == "Failed"
    assert status["failure"]["reason"] == "InvalidSpec"
    assert _conditions(status)["Accepted"] == ("False", "InvalidSpec")


def test_status_patch_removes_what_no_longer_applies(kube):
    old = {"phase": "Queued", "queuePosition": 3, "stage": "Queued for a render slot: position 3 of 3"}
    new = {"phase": "Pending", "stage": "Starting the renderer"}
    assert status_patch(old, new) == {"phase": "Pending", "stage": "Starting the renderer", "queuePosition": None}
    assert status_patch(new, new) == {}
