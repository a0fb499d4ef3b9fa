"""Shared by the gateway_* benchmarks: a local control plane with the CRD, one tenant, and the
gateway as a subprocess pinned to one CPU core (``taskset``), exactly as ``videojob-gateway`` runs.

Not a benchmark itself. No operator runs: the benchmarks write VideoJob status themselves, as
the operator would, so what is measured is the gateway and the API server behind it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from videojob_devenv import REPO_ROOT
from videojob_devenv.controlplane import ControlPlane
from videojob_devenv.processes import Component, free_port, wait_for

TENANT = "bench"


@dataclass
class Harness:
    plane: ControlPlane
    gateway: Component
    url: str
    key: str

    def rss_mib(self) -> float:
        """The gateway's resident memory."""
        assert self.gateway.pid is not None
        for line in Path(f"/proc/{self.gateway.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_seconds(self) -> float:
        """CPU time the gateway has used so far (user + system)."""
        assert self.gateway.pid is not None
        fields = Path(f"/proc/{self.gateway.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


@contextlib.contextmanager
def gateway_harness(core: int = 1, **settings: str) -> Iterator[Harness]:
    with tempfile.TemporaryDirectory(prefix="videojob-gateway-bench-") as directory:
        plane = ControlPlane(Path(directory) / "controlplane")
        plane.start()
        try:
            crd = REPO_ROOT / "manifests" / "crd" / "videojob.dev_videojobs.yaml"
            plane.kubectl("apply", "--server-side", "-f", str(crd))
            plane.kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", str(crd))
            env = os.environ | {"KUBECONFIG": str(plane.kubeconfig), "PYTHONSAFEPATH": "1"}
            command = [sys.executable, "-P", "-m", "videojob.api"]
            created = subprocess.run(
                [*command, "create-tenant", TENANT, "--max-videos", "2000"],
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=True,
            )
            port = free_port()
            pin = ["taskset", "-c", str(core)] if shutil.which("taskset") else []
            gateway_env = (
                env
                | {
                    "VIDEOJOB_GATEWAY_PORT": str(port),
                    "VIDEOJOB_GATEWAY_RATE_PER_MINUTE": "100000",
                    "VIDEOJOB_GATEWAY_RATE_BURST": "100000",
                }
                | {f"VIDEOJOB_GATEWAY_{key.upper()}": value for key, value in settings.items()}
            )
            gateway = Component.launch(
                "gateway", [*pin, *command], Path(directory), tie_to_parent=True, env=gateway_env
            )
            url = f"http://127.0.0.1:{port}"

            def ready() -> bool:
                try:
                    with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
                        return response.status == 200
                except OSError:
                    return False

            wait_for(ready, 60, "the gateway to answer")
            try:
                yield Harness(plane, gateway, url, created.stdout.strip())
            finally:
                gateway.stop(10)
        finally:
            plane.stop()
        time.sleep(0.1)
