"""The operator under test: the dev environment's launcher, with a failed start reported as a test failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from videojob_devenv.operator_process import OperatorProcess, start_operator
from videojob_devenv.processes import StartError


def launch_operator(kubeconfig: Path, namespace: str, log_path: Path, **settings: str) -> OperatorProcess:
    """Start the operator watching ``namespace``; ``settings`` are environment variables (VIDEOJOB_*)."""
    try:
        return start_operator(kubeconfig, namespace, log_path, settings=settings)
    except StartError as error:
        pytest.fail(f"the operator did not start: {error}", pytrace=False)
