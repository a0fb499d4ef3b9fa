"""Trimmed copies of watched objects: only the fields the reconciler and status mapper read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .builders import ATTEMPT_LABEL, KUEUE_QUEUE_LABEL
from .fanout import COMPLETION_INDEX_LABEL, STEP_LABEL

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
_POD_LABELS = ("job-name", "batch.kubernetes.io/job-name", COMPLETION_INDEX_LABEL)
_JOB_LABELS = (ATTEMPT_LABEL, KUEUE_QUEUE_LABEL, STEP_LABEL)


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
    metadata, spec = body.get("metadata") or {}, body.get("spec") or {}
    # The containers' resources and the emptyDir sizes: a later attempt's memory or scratch grows from
    # this one's (attempts.py).
    template = (spec.get("template") or {}).get("spec") or {}
    containers = [_pick(c, ("name", "resources")) for c in template.get("containers") or []]
    volumes = [_pick(v, ("name", "emptyDir")) for v in template.get("volumes") or [] if "emptyDir" in v]
    return {
        "metadata": _pick(metadata, ("name", "namespace", "uid"))
        | {"labels": _pick(metadata.get("labels"), _JOB_LABELS)},
        "spec": _pick(spec, ("suspend", "activeDeadlineSeconds", "completions"))
        | {"template": {"spec": {"containers": containers, "volumes": volumes}}},
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
        # reason and message: an eviction says why only there (failures.evicted_for_scratch).
        "status": _pick(status, ("phase", "conditions", "containerStatuses", "startTime", "reason", "message")),
    }
