"""The Helm chart rendered by the real ``helm`` binary, for the chart's unit and integration tests."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from videojob_devenv import REPO_ROOT
from videojob_devenv.tools import require_binary

CHART_DIR = REPO_ROOT / "charts" / "videojob"
RELEASE = "videojob"
RELEASE_NAMESPACE = "videojob-system"

# Every optional part switched on: the Prometheus Operator objects, the dashboards, the Ingress,
# the chart's MinIO and the helm test's objects.
EVERYTHING = (
    "minio.enabled=true",
    "minio.persistence.enabled=true",
    "tests.enabled=true",
    "serviceMonitor.enabled=true",
    "prometheusRule.enabled=true",
    "dashboards.enabled=true",
    "gateway.ingress.enabled=true",
    "gateway.ingress.host=videos.example.com",
    "gateway.ingress.tlsSecretName=videos-tls",
)


def helm(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        [str(require_binary("helm")), *args], capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT
    )
    if check and completed.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed ({completed.returncode}):\n{completed.stderr}")
    return completed


def template_args(sets: Sequence[str] = (), namespace: str = RELEASE_NAMESPACE, release: str = RELEASE) -> list[str]:
    return ["template", release, str(CHART_DIR), "--namespace", namespace, *[f"--set={s}" for s in sets]]


def render(
    sets: Sequence[str] = (), namespace: str = RELEASE_NAMESPACE, release: str = RELEASE
) -> list[dict[str, Any]]:
    """The objects ``helm template`` renders (templates only; crds/ are not templates)."""
    text = helm(*template_args(sets, namespace, release)).stdout
    return [doc for doc in yaml.safe_load_all(text) if doc]


def find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}: {[o['kind'] for o in objects]}"
    return matches[0]


def load_manifests(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
