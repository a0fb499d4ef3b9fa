"""The operator as a process, started the one way the demo, the tests and the benchmarks use.

It runs exactly as a user runs it outside the cluster (``python -P -m videojob.operator``,
the ``videojob-operator`` script), configured only by ``VIDEOJOB_*`` variables, and is
ready when kopf's liveness endpoint answers 200: kopf serves it only after its startup
handlers (the operator's settings) have run, so nothing depends on the wording of a log line.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from videojob_devenv.processes import Component, free_port, https_ok, log_tail

START_TIMEOUT = 90.0  # imports and the first login take seconds on a busy 2-core machine
# Not a real image: Pods that need one are given VIDEOJOB_RENDERER_IMAGE by the caller.
PLACEHOLDER_RENDERER_IMAGE = "localhost/videojob-renderer:test"


@dataclasses.dataclass
class OperatorProcess:
    """A running operator; ``log()`` is everything it printed."""

    component: Component
    liveness_url: str
    started_in: float

    @property
    def pid(self) -> int:
        return self.component.started_pid

    @property
    def log_path(self) -> Path:
        return self.component.log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return log_tail(self.log_path, lines)

    def running(self) -> bool:
        return self.component.running()

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM (kopf finishes what it is doing), SIGKILL after ``grace`` seconds."""
        if self.running():
            self.component.stop(grace)

    def kill(self) -> None:
        """SIGKILL, as a crashed or evicted operator Pod ends: no clean-up at all."""
        if self.running():
            os.killpg(self.pid, signal.SIGKILL)
            if self.component.process is not None:
                self.component.process.wait(timeout=10)


def operator_environment(
    kubeconfig: Path, namespaces: str, liveness_url: str, settings: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of an operator watching ``namespaces`` (comma-separated) through ``kubeconfig``.

    Metrics are off (port 0) unless ``settings`` chooses a port: several operators run at once
    in a test session. ``settings`` (VIDEOJOB_* and anything else) win over the defaults.
    """
    return (
        os.environ
        | {
            "PYTHONSAFEPATH": "1",  # operator/ at the repository root must not shadow the stdlib
            "KUBECONFIG": str(kubeconfig),
            "VIDEOJOB_NAMESPACES": namespaces,
            "VIDEOJOB_LIVENESS_ENDPOINT": liveness_url,
            "VIDEOJOB_METRICS_PORT": "0",
            "VIDEOJOB_RENDERER_IMAGE": PLACEHOLDER_RENDERER_IMAGE,
        }
        | dict(settings or {})
    )


def start_operator(
    kubeconfig: Path,
    namespaces: str,
    log_path: Path,
    *,
    settings: Mapping[str, str] | None = None,
    tie_to_parent: bool = True,
    timeout: float = START_TIMEOUT,
) -> OperatorProcess:
    """Start the operator and return once its liveness endpoint answers 200.

    Raises :class:`~videojob_devenv.processes.StartError` with the tail of its log when it
    exits or is not live within ``timeout`` seconds (a bad VIDEOJOB_* setting exits at once).
    """
    liveness_url = f"http://127.0.0.1:{free_port()}/healthz"
    env = operator_environment(kubeconfig, namespaces, liveness_url, settings)
    component = Component(
        "operator", [sys.executable, "-P", "-m", "videojob.operator"], log_path, env=env, tie_to_parent=tie_to_parent
    )
    component.start()
    try:
        started_in = component.wait_ready(lambda: https_ok(liveness_url, timeout=1.0), timeout, poll=0.1)
    except BaseException:
        component.stop()
        raise
    return OperatorProcess(component, liveness_url, started_in)
