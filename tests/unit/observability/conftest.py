"""What the operator and the gateway export, for tests that check a query asks only for real metrics."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY

from videojob import logformat
from videojob.api.metrics import GatewayMetrics
from videojob.operator import metrics  # noqa: F401 - registers the operator's metrics

SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}


@pytest.fixture(scope="session")
def exported_metrics() -> set[str]:
    """Every series name the operator's or the gateway's /metrics can carry, and Prometheus's own ``up``."""
    names = {"up"}
    for registry in (REGISTRY, GatewayMetrics().registry):
        for family in registry.collect():
            names |= {sample.name for sample in family.samples}
            names |= {family.name + suffix for suffix in SUFFIXES.get(family.type, ("",))}
    return names


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    """Log tests configure the root logger as a component would at start; each gets it back as it was."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logformat.bind_videojob(None)
