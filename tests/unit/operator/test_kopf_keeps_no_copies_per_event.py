"""kopf's diff-base and handler-progress bookkeeping is off, and safe to be off.

kopf deep-copied every watched body twice per event for change detection the operator
never uses (the largest cost on its event loop in the 10,000-VideoJob burst, see
benchmarks/operator_10k.py). Turning it off is only safe while every handler is an
event or index handler: start-up refuses otherwise, naming the handler.
"""

from __future__ import annotations

import kopf
import pytest

from videojob.operator import handlers, kopf_storage


def test_the_operator_registers_only_event_and_index_handlers_and_installs_the_no_copy_storages():
    settings = kopf.OperatorSettings()
    kopf_storage.install(settings, kopf.get_default_registry())
    assert isinstance(settings.persistence.diffbase_storage, kopf_storage.NoDiffBase)
    assert isinstance(settings.persistence.progress_storage, kopf_storage.NoHandlerProgress)
    body = kopf.Body({"metadata": {"name": "big", "annotations": {"a": "b"}}, "spec": {"x": list(range(100))}})
    assert settings.persistence.diffbase_storage.build(body=body) == {}
    essence = {"spec": {"x": [1]}}
    assert settings.persistence.progress_storage.clear(essence=essence) is essence  # not a copy
    assert handlers.videojob_changed is not None


def test_a_change_detecting_handler_stops_the_start_naming_it():
    registry = kopf.OperatorRegistry()

    @kopf.on.update("videojob.dev", "v1alpha1", "videojobs", registry=registry, id="needs-a-diff")
    def needs_a_diff(**_):
        pass

    with pytest.raises(RuntimeError, match="needs-a-diff"):
        kopf_storage.install(kopf.OperatorSettings(), registry)
