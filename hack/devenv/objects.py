"""Kubernetes objects the tests, the benchmarks and the demo create, built in one place."""

from __future__ import annotations

import re
import secrets
from typing import Any

API_VERSION = "videojob.dev/v1alpha1"


def videojob_manifest(name: str, *, namespace: str | None = None, **spec: Any) -> dict[str, Any]:
    """A VideoJob that renders a one-line Markdown lecture at low quality; ``spec`` keys replace those."""
    metadata: dict[str, Any] = {"name": name} | ({"namespace": namespace} if namespace else {})
    return {
        "apiVersion": API_VERSION,
        "kind": "VideoJob",
        "metadata": metadata,
        "spec": {"source": {"markdown": f"# {name}\n\nA short lecture.\n"}, "quality": "low"} | spec,
    }


def namespace_name(hint: str) -> str:
    """A fresh namespace name from a test's name: a DNS label, unique, recognisable in `kubectl get ns`."""
    slug = re.sub(r"[^a-z0-9]+", "-", hint.lower()).strip("-")[:40].strip("-")
    return f"{slug}-{secrets.token_hex(3)}"
