"""Filling kopf's indexes costs no thread: every index handler is a coroutine.

kopf runs a plain (synchronous) handler in its thread pool, so a plain index function
meant one thread round trip per watch event: in a 1,000-VideoJob burst on kwok nodes
(benchmarks/operator_10k.py), as many thread hand-offs as all the operator's API calls.
"""

from __future__ import annotations

import inspect

import kopf

from videojob.operator import handlers  # noqa: F401 - registers the handlers


def test_every_index_handler_is_a_coroutine_so_kopf_calls_it_on_the_event_loop():
    indexers = list(kopf.get_default_registry()._indexing.get_all_handlers())
    assert {handler.id for handler in indexers} >= {"workloads_by_job", "priority_values"}
    plain = [handler.id for handler in indexers if not inspect.iscoroutinefunction(handler.fn)]
    assert plain == [], f"kopf would run these on a thread per watch event: {plain}"
