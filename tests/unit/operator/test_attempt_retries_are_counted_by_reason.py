"""videojob_attempt_retries_total: each attempt started again with more room, by what the last one ran out of.

The reconciles here are the ones the OOM and scratch tests drive (their Jobs and Pods play what the
Job controller and the kubelet write); the figure is read from the operator's own Prometheus registry,
as a scrape would read it.
"""

from __future__ import annotations

import asyncio
from typing import cast

from prometheus_client import REGISTRY

from videojob.operator.cleanup import OutputCleaner
from videojob.operator.kube import ClusterApi
from videojob.operator.reconciler import Reconciler
from videojob.operator.settings import OperatorSettings
from videojob.operator.world import World

from .test_a_fan_out_index_that_runs_out_of_room import _oom_killed_index_0
from .test_scratch_grows_after_an_eviction import RecordingApi, evicted_pod, oom_pod, renderer_job


class CreatesOnce(RecordingApi):
    """The API server's answer to a create: the first makes the object, a repeat finds it (409)."""

    async def create_if_absent(self, manifest):
        name = manifest["metadata"]["name"]
        if any(made["metadata"]["name"] == name for made in self.created):
            return False
        return await super().create_if_absent(manifest)


def _counted(reason: str, quality: str = "low") -> float:
    return REGISTRY.get_sample_value("videojob_attempt_retries_total", {"reason": reason, "quality": quality}) or 0.0


def _oom_counted(quality: str = "low") -> float:
    return REGISTRY.get_sample_value("videojob_oom_retries_total", {"quality": quality}) or 0.0


def _reconcile_twice(kube, jobs, pods, videojob=None) -> CreatesOnce:
    api = CreatesOnce()
    settings = OperatorSettings()
    reconciler = Reconciler(settings, cast(ClusterApi, api), OutputCleaner(settings), lambda *_: None)
    body = videojob or kube.videojob(quality="low")
    reconciler.bind(World(videojobs={kube.UID: [body]}, jobs={kube.UID: jobs}, pods={kube.UID: pods}, priorities={}))
    for _ in range(2):  # the second reconcile finds attempt 2 made: nothing is counted twice
        asyncio.run(reconciler.reconcile(kube.UID))
    return api


def test_an_attempt_evicted_for_scratch_counts_one_scratch_full_retry(kube) -> None:
    scratch, oom, oom_old = _counted("ScratchFull"), _counted("OOMKilled"), _oom_counted()
    first = renderer_job(kube, failed_by="BackoffLimitExceeded")
    api = _reconcile_twice(kube, [first], [evicted_pod(kube, first, "2Gi")])
    assert [made["metadata"]["labels"]["videojob.dev/attempt"] for made in api.created if made["kind"] == "Job"] == [
        "2"
    ]
    assert (_counted("ScratchFull") - scratch, _counted("OOMKilled") - oom, _oom_counted() - oom_old) == (1, 0, 0)


def test_an_oom_kill_counts_one_oom_killed_retry_in_both_counters(kube) -> None:
    scratch, oom, oom_old = _counted("ScratchFull"), _counted("OOMKilled"), _oom_counted()
    first = renderer_job(kube, failed_by="PodFailurePolicy")
    _reconcile_twice(kube, [first], [oom_pod(kube, first)])
    assert (_counted("ScratchFull") - scratch, _counted("OOMKilled") - oom, _oom_counted() - oom_old) == (0, 1, 1)


def test_a_fan_out_index_killed_for_memory_counts_once_for_the_whole_attempt(kube) -> None:
    oom = _counted("OOMKilled")
    first, pods = _oom_killed_index_0(kube)
    _reconcile_twice(kube, [first], pods, kube.videojob(quality="low", parallelism=2))
    assert _counted("OOMKilled") - oom == 1


def test_every_reason_and_quality_is_exported_from_the_start() -> None:
    for reason in ("OOMKilled", "ScratchFull"):
        for quality in ("low", "medium", "high"):
            assert (
                REGISTRY.get_sample_value("videojob_attempt_retries_total", {"reason": reason, "quality": quality})
                is not None
            )
