"""Filling kopf's indexes costs no thread: every index handler is a coroutine.

kopf runs a plain (synchronous) handler in its thread pool, so a plain index function
meant one thread round trip per watch event: in a 1,000-VideoJob burst on kwok nodes
(benchmarks/operator_10k.py), as many thread hand-offs as all the operator's API calls.
"""

from __future__ import annotations

import asyncio
import inspect

import kopf

from videojob.operator import handlers


def test_every_index_handler_is_a_coroutine_so_kopf_calls_it_on_the_event_loop():
    indexers = list(kopf.get_default_registry()._indexing.get_all_handlers())
    assert {handler.id for handler in indexers} >= {"videojobs_by_uid", "jobs_by_videojob", "pods_by_videojob"}
    plain = [handler.id for handler in indexers if not inspect.iscoroutinefunction(handler.fn)]
    assert plain == [], f"kopf would run these on a thread per watch event: {plain}"


def test_the_pod_index_keeps_the_trimmed_pod_under_its_videojob():
    pod = kopf.Body(
        {
            "metadata": {
                "name": "lesson-1-abcde",
                "namespace": "team-a",
                "uid": "pod-uid",
                "labels": {"videojob.dev/uid": "vj-uid", "batch.kubernetes.io/job-name": "lesson-1"},
                "managedFields": [{"manager": "kubelet"}],
            },
            "spec": {"containers": [{"name": "renderer", "image": "renderer:1", "env": [{"name": "A"}]}]},
            "status": {"phase": "Running"},
        }
    )
    indexed = asyncio.run(handlers.pods_by_videojob(labels=pod.metadata.labels, body=pod))
    assert list(indexed) == ["vj-uid"]
    assert "managedFields" not in indexed["vj-uid"]["metadata"] and indexed["vj-uid"]["status"] == {"phase": "Running"}
