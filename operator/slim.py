"""Trimmed copies of watched objects: only the fields the reconciler and status mapper read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_VIDEOJOB_METADATA = (
    "name",
    "namespace",
    "uid",
    "generation",
    "resourceVersion",
    "creationTimestamp",
    "deletionTimestamp",
    "finalizers",
)
_POD_LABELS = ("job-name", "batch.kubernetes.io/job-name")


def _pick(source: Mapping[str, Any] | None, keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: source[key] for key in keys if source and key in source}


def videojob(body: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": body.get("apiVersion"),
        "kind": body.get("kind"),
        "metadata": _pick(body.get("metadata"), _VIDEOJOB_METADATA),
        "spec": dict(body.get("spec") or {}),
        "status": dict(body.get("status") or {}),
    }


def job(body: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "metadata": _pick(body.get("metadata"), ("name", "namespace", "uid")),
        "spec": _pick(body.get("spec"), ("suspend", "activeDeadlineSeconds")),
        "status": dict(body.get("status") or {}),
    }


def pod(body: Mapping[str, Any]) -> dict[str, Any]:
    metadata = body.get("metadata") or {}
    containers = [_pick(c, ("name", "image", "resources")) for c in (body.get("spec") or {}).get("containers") or []]
    status = body.get("status") or {}
    return {
        "metadata": _pick(metadata, ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp"))
        | {"labels": _pick(metadata.get("labels"), _POD_LABELS)},
        "spec": {"containers": containers},
        "status": _pick(status, ("phase", "conditions", "containerStatuses", "startTime")),
    }
