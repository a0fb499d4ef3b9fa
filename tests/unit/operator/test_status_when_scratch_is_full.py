"""A render that writes past its scratch volume's sizeLimit is evicted by the kubelet; the status says so.

The Pod status here plays the one the real kubelet writes (tests/e2e/test_chaos_scratch_full_on_a_real_node.py
proves it on the real node): phase Failed, reason Evicted, the emptyDir named in the message, the container
stopped by SIGTERM (exit code 143) and no DisruptionTarget condition, so the Job counts ordinary failures
and retries up to spec.retries before it fails with BackoffLimitExceeded.
"""

from __future__ import annotations

from videojob.operator import slim
from videojob.operator.status import Observation, compute_status

EVICTION_MESSAGE = 'Usage of EmptyDir volume "scratch" exceeds the limit "2Gi". '


def _evicted_pod(kube, message: str = EVICTION_MESSAGE) -> dict:
    pod = kube.pod(phase="Failed", state=kube.terminated(143, "Error"))
    pod["status"] |= {"reason": "Evicted", "message": message}
    return slim.pod(pod)  # what the operator keeps of a watched Pod


def _failed_status(kube, pods, **spec):
    job = kube.job(
        failed=len(pods),
        conditions=[
            kube.job_condition("FailureTarget", "BackoffLimitExceeded"),
            kube.job_condition("Failed", "BackoffLimitExceeded"),
        ],
    )
    return compute_status(kube.videojob(**spec), Observation(now=kube.NOW, job=job, pods=pods))


def test_scratch_past_its_size_limit_fails_as_scratch_full_naming_the_limit_and_the_setting(kube):
    status = _failed_status(kube, [_evicted_pod(kube), _evicted_pod(kube)], quality="low", retries=1)
    failure = status["failure"]
    assert failure["reason"] == "ScratchFull"
    assert "more than the 2Gi sizeLimit of its scratch volume" in failure["message"]
    assert """VIDEOJOB_PRESETS='{"low": {"scratch": "..."}}'""" in failure["message"]
    assert "operator.presets" in failure["message"] and "create the VideoJob again" in failure["message"]
    assert "spec.retries" not in failure["message"]  # was: "failed 2 time(s), using up spec.retries=1; last exit: ..."
    assert failure["exitCode"] == 143
    assert status["phase"] == "Failed"


def test_an_eviction_for_another_reason_is_not_scratch_full(kube):
    pod = _evicted_pod(kube, "The node was low on resource: memory. ")
    status = _failed_status(kube, [pod])
    assert status["failure"]["reason"] != "ScratchFull"
