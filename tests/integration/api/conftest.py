"""The gateway as a real process under its own ServiceAccount, against the real API server,
real MinIO and the running operator; the renderer's part is played by the gateway tier's
stand-in (tests/support/gateway_renderer.py: it binds the Job's Pod to a fake Node and patches
its status), which also puts real bytes into MinIO where the renderer would, so downloads can be
checked byte for byte. The fixtures live in tests/support (gateway.py, gateway_renderer.py,
stand_ins.py), shared with the observability, chart and e2e tests.
"""

from __future__ import annotations

from typing import Any

import pytest

from support.gateway import create_tenant, gateway_kubeconfig, start_gateway  # noqa: F401 - fixtures
from support.gateway_renderer import renderer  # noqa: F401 - a fixture
from support.stand_ins import (  # noqa: F401 - fixtures shared with the operator tests
    cluster,
    fake_kubelet,
    fake_node,
    helpers,
    start_operator,
)


@pytest.fixture
def operator(start_operator: Any, minio_server: Any) -> Any:  # noqa: F811 - the imported fixture
    return start_operator(VIDEOJOB_S3_ENDPOINT=minio_server.url, VIDEOJOB_S3_BUCKET=minio_server.bucket)
