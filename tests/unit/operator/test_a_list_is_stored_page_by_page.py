"""A list goes into the store page by page, so that a restart never holds every raw object at once.

Restarted with 10,000 renderer Jobs and Pods (benchmarks/operator_10k.py), the operator
kept each whole list of raw objects before trimming any: over 900 MiB resident. An
in-memory stand-in plays the API server's paged list here.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

from videojob.operator import slim
from videojob.operator.informer import Informer, OwnedObjects

LABEL = "videojob.dev/uid"


def _pod(number: int) -> dict[str, Any]:
    return {
        "metadata": {
            "uid": f"pod-{number}",
            "name": f"pod-{number}",
            "resourceVersion": str(number),
            "labels": {LABEL: f"vj-{number}"},
            "managedFields": [{"manager": "kubelet", "fieldsV1": {"f:status": {}}}],
        },
        "spec": {"containers": [{"name": "renderer", "image": "renderer:1"}]},
        "status": {"phase": "Running"},
    }


class TwoPages:
    def __init__(self, store: OwnedObjects) -> None:
        self.store, self.stored_before_the_second_page = store, -1

    async def list_page(self, path: str, params: Mapping[str, str]) -> dict[str, Any]:
        if params.get("continue"):
            self.stored_before_the_second_page = len(self.store)
            return {"items": [_pod(2), _pod(3)], "metadata": {"resourceVersion": "9"}}
        return {"items": [_pod(0), _pod(1)], "metadata": {"resourceVersion": "9", "continue": "next"}}

    async def watch(self, path: str, params: Mapping[str, str]) -> AsyncIterator[dict[str, Any]]:
        yield {}


def test_each_page_is_trimmed_into_the_store_before_the_next_is_asked_for():
    store = OwnedObjects()
    api = TwoPages(store)
    seen: list[str] = []
    informer = Informer(api, "/pods", "", LABEL, slim.pod, store, lambda kind, owner, obj: seen.append(owner))
    asyncio.run(informer.sync())
    assert api.stored_before_the_second_page == 2
    assert sorted(store) == ["vj-0", "vj-1", "vj-2", "vj-3"]
    assert "managedFields" not in store["vj-0"][0]["metadata"]  # kept trimmed, not raw
    assert seen == ["vj-0", "vj-1", "vj-2", "vj-3"]
