"""Pure builders of the objects a VideoJob owns: the renderer Job and its spec ConfigMap.

Each returns a plain dict ready for the API. Names are deterministic (VideoJob name +
uid + attempt), so an operator that restarts half-way creates nothing twice: the
second create answers 409 and the existing object is used.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from kubernetes.utils.quantity import parse_quantity

from videojob.contract import EXIT_BAD_INPUT, TERMINATION_MESSAGE_PATH
from videojob.s3 import job_output_prefix
from videojob.spec import (
    API_GROUP,
    API_VERSION,
    KIND,
    RENDERER_SPEC_DIR,
    RENDERER_SPEC_FILE,
    VideoJobSpec,
    renderer_spec_json,
)

from .fanout import ASSEMBLY_SUFFIX, STEP_ASSEMBLY, STEP_LABEL, STEP_SHARES
from .settings import OperatorSettings
from .slots import pods_at_once

RENDERER_CONTAINER = "renderer"
SCRATCH_DIR = "/scratch"
SCRATCH_VOLUME = "scratch"  # the renderer's emptyDir, the one volume it writes
MANAGED_BY = "videojob-operator"
KUEUE_QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
NAME_LABEL = "videojob.dev/name"
UID_LABEL = "videojob.dev/uid"
ATTEMPT_LABEL = "videojob.dev/attempt"
RENDERER_USER_ID = 10001
SIGKILL_EXIT_CODE = 137  # 128 + SIGKILL: how an OOM kill ends the renderer
MAX_NAME_LENGTH = 63  # a Job's name becomes a Pod label value
# Earlier versions kept a character for a fan-out's assembly Job ("...-1a"); the stem still leaves it,
# so that a VideoJob's Job names stay what they were and an upgraded operator creates no second Job.
RESERVED_NAME_CHARACTERS = 1


def job_name(name: str, uid: str, attempt: int = 1) -> str:
    """``<name>-<hash of uid>-<attempt>``, at most 63 characters, stable for the same inputs."""
    digest = hashlib.sha256(uid.encode()).hexdigest()[:8]
    suffix = f"-{digest}-{attempt}"
    stem = name[: MAX_NAME_LENGTH - len(suffix) - RESERVED_NAME_CHARACTERS].rstrip("-.")
    return f"{stem}{suffix}"


def spec_configmap_name(name: str, uid: str) -> str:
    return job_name(name, uid, attempt=0)[: MAX_NAME_LENGTH - 2].rstrip("-.") + "-s"


def output_prefix(namespace: str, name: str, uid: str, spec: VideoJobSpec) -> str:
    """Where the renderer writes this VideoJob's files (see :func:`videojob.s3.job_output_prefix`)."""
    return job_output_prefix(namespace, name, uid, spec.output.prefix)


def owner_reference(videojob: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": f"{API_GROUP}/{API_VERSION}",
        "kind": KIND,
        "name": videojob["metadata"]["name"],
        "uid": videojob["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def child_labels(videojob: Mapping[str, Any]) -> dict[str, str]:
    metadata = videojob["metadata"]
    return {
        "app.kubernetes.io/name": "videojob-renderer",
        "app.kubernetes.io/managed-by": MANAGED_BY,
        NAME_LABEL: metadata["name"][:63].rstrip("-._"),
        UID_LABEL: metadata["uid"],
    }


def renderer_resources(spec: VideoJobSpec, settings: OperatorSettings) -> dict[str, dict[str, str]]:
    """The quality preset (requests = limits), overridden field by field by spec.resources."""
    preset = settings.presets[spec.quality]
    requests = {"cpu": preset.cpu, "memory": preset.memory}
    limits = {"cpu": preset.cpu, "memory": preset.memory}
    for target, override in ((requests, spec.resources.requests), (limits, spec.resources.limits)):
        for field in ("cpu", "memory"):
            value = getattr(override, field)
            if value is not None:
                target[field] = str(value)
    # A request above the preset's limit would be refused by the API server; lift the limit with it.
    for field in ("cpu", "memory"):
        if getattr(spec.resources.limits, field) is None and parse_quantity(requests[field]) > parse_quantity(
            limits[field]
        ):
            limits[field] = requests[field]
    return {"requests": requests, "limits": limits}


def with_memory_limit(resources: dict[str, dict[str, str]], memory: str) -> dict[str, dict[str, str]]:
    """The same resources with a new memory limit; a request equal to the old limit follows it (QoS kept)."""
    requests, limits = dict(resources["requests"]), dict(resources["limits"])
    if parse_quantity(requests["memory"]) >= parse_quantity(limits["memory"]):
        requests["memory"] = memory
    limits["memory"] = memory
    return {"requests": requests, "limits": limits}


def build_spec_configmap(videojob: Mapping[str, Any], spec: VideoJobSpec) -> dict[str, Any]:
    metadata = videojob["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": spec_configmap_name(metadata["name"], metadata["uid"]),
            "namespace": metadata["namespace"],
            "labels": child_labels(videojob),
            "ownerReferences": [owner_reference(videojob)],
        },
        "immutable": True,
        "data": {RENDERER_SPEC_FILE: renderer_spec_json(spec)},
    }


def _secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _renderer_env(videojob: Mapping[str, Any], spec: VideoJobSpec, settings: OperatorSettings) -> list[dict[str, Any]]:
    metadata = videojob["metadata"]
    env: list[dict[str, Any]] = [
        {"name": "VIDEOJOB_SPEC_FILE", "value": f"{RENDERER_SPEC_DIR}/{RENDERER_SPEC_FILE}"},
        {"name": "VIDEOJOB_NAMESPACE", "value": metadata["namespace"]},
        {"name": "VIDEOJOB_NAME", "value": metadata["name"]},
        {"name": "VIDEOJOB_UID", "value": metadata["uid"]},
        {"name": "VIDEOJOB_QUALITY", "value": spec.quality},
        {"name": "VIDEOJOB_OUTPUT_BUCKET", "value": spec.output.bucket or settings.s3_bucket},
        {
            "name": "VIDEOJOB_OUTPUT_PREFIX",
            "value": output_prefix(metadata["namespace"], metadata["name"], metadata["uid"], spec),
        },
        {"name": "VIDEOJOB_S3_ENDPOINT", "value": settings.s3_endpoint},
        _secret_env("AWS_ACCESS_KEY_ID", settings.s3_secret_name, settings.s3_access_key_key),
        _secret_env("AWS_SECRET_ACCESS_KEY", settings.s3_secret_name, settings.s3_secret_key_key),
        {"name": "HOME", "value": SCRATCH_DIR},
        {"name": "TMPDIR", "value": f"{SCRATCH_DIR}/tmp"},
        # stderr as JSON lines naming the VideoJob (the renderer's default is text, for a person)
        {"name": "VIDEOJOB_LOG_FORMAT", "value": "json"},
    ]
    if spec.llm.base_url:
        env.append({"name": "OPENAI_BASE_URL", "value": spec.llm.base_url})
    if spec.llm.api_key is not None:
        ref = spec.llm.api_key.secret_key_ref
        env.append(_secret_env("OPENAI_API_KEY", ref.name, ref.key))
    return env


def build_renderer_job(
    videojob: Mapping[str, Any],
    settings: OperatorSettings,
    *,
    attempt: int = 1,
    memory: str | None = None,
    scratch: str | None = None,
    deadline_seconds: int | None = None,
) -> dict[str, Any]:
    """The batch/v1 Job that renders one VideoJob; the Job controller owns retries and deadlines.

    ``memory`` replaces the renderer's memory limit and ``scratch`` its scratch volume's sizeLimit: a later
    attempt after an OOM kill or an eviction for scratch space (see attempts.py). A kill for memory fails
    the Job at once (exit code 137) instead of retrying at the same size; an eviction the operator ends.
    ``deadline_seconds`` replaces spec.activeDeadlineSeconds: what a later attempt has left of it.
    """
    metadata = videojob["metadata"]
    spec = VideoJobSpec.model_validate(videojob["spec"])
    labels = child_labels(videojob) | {ATTEMPT_LABEL: str(attempt)}
    job_labels = dict(labels)
    if spec.queue_name:
        job_labels[KUEUE_QUEUE_LABEL] = spec.queue_name
    preset = settings.presets[spec.quality]
    resources = renderer_resources(spec, settings)
    if memory is not None:
        resources = with_memory_limit(resources, memory)

    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RENDERER_USER_ID,
            "runAsGroup": RENDERER_USER_ID,
            "fsGroup": RENDERER_USER_ID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [
            {
                "name": RENDERER_CONTAINER,
                "image": settings.renderer_image,
                "imagePullPolicy": settings.renderer_image_pull_policy,
                "env": _renderer_env(videojob, spec, settings),
                "resources": resources,
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "runAsNonRoot": True,
                    "capabilities": {"drop": ["ALL"]},
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "terminationMessagePath": TERMINATION_MESSAGE_PATH,
                "terminationMessagePolicy": "FallbackToLogsOnError",
                "volumeMounts": [
                    {"name": SCRATCH_VOLUME, "mountPath": SCRATCH_DIR},
                    {"name": "spec", "mountPath": RENDERER_SPEC_DIR, "readOnly": True},
                ],
            }
        ],
        "volumes": [
            {"name": SCRATCH_VOLUME, "emptyDir": {"sizeLimit": scratch or preset.scratch}},
            {"name": "spec", "configMap": {"name": spec_configmap_name(metadata["name"], metadata["uid"])}},
        ],
    }
    if spec.priority_class_name:
        pod_spec["priorityClassName"] = spec.priority_class_name
    if settings.renderer_service_account:
        pod_spec["serviceAccountName"] = settings.renderer_service_account

    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": job_name(metadata["name"], metadata["uid"], attempt),
            "namespace": metadata["namespace"],
            "labels": job_labels,
            "ownerReferences": [owner_reference(videojob)],
        },
        "spec": {
            "backoffLimit": spec.retries,
            "activeDeadlineSeconds": spec.active_deadline_seconds if deadline_seconds is None else deadline_seconds,
            "suspend": spec.suspend,
            "completions": 1,
            "parallelism": 1,
            "podReplacementPolicy": "Failed",
            "podFailurePolicy": {
                "rules": [
                    {
                        "action": "FailJob",
                        "onExitCodes": {
                            "containerName": RENDERER_CONTAINER,
                            "operator": "In",
                            "values": [EXIT_BAD_INPUT],
                        },
                    },
                    {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
                    {
                        "action": "FailJob",
                        "onExitCodes": {
                            "containerName": RENDERER_CONTAINER,
                            "operator": "In",
                            "values": [SIGKILL_EXIT_CODE],
                        },
                    },
                ]
            },
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }


def build_shares_job(
    videojob: Mapping[str, Any],
    settings: OperatorSettings,
    *,
    pods: int,
    attempt: int = 1,
    memory: str | None = None,
    scratch: str | None = None,
    deadline_seconds: int | None = None,
) -> dict[str, Any]:
    """A fanned-out render's Indexed Job: index i draws share i of the scenes into the cache, and the last
    index then joins every share into the video (see fanout.py).

    Each index retries alone (``backoffLimitPerIndex``: spec.retries); bad input still fails the
    whole Job at once, and one index out of retries fails it without waiting for the others.
    """
    job = build_renderer_job(
        videojob, settings, attempt=attempt, memory=memory, scratch=scratch, deadline_seconds=deadline_seconds
    )
    spec = job["spec"]
    for labels in (job["metadata"]["labels"], spec["template"]["metadata"]["labels"]):
        labels[STEP_LABEL] = STEP_SHARES
    spec["template"]["spec"]["containers"][0]["env"].append({"name": "VIDEOJOB_SHARDS", "value": str(pods)})
    spec.update(
        completionMode="Indexed",
        completions=pods,
        parallelism=pods,
        backoffLimitPerIndex=spec.pop("backoffLimit"),
        maxFailedIndexes=0,
    )
    return job


def build_assembly_job(
    videojob: Mapping[str, Any],
    settings: OperatorSettings,
    *,
    pods: int,
    attempt: int = 1,
    memory: str | None = None,
    scratch: str | None = None,
) -> dict[str, Any]:
    """The one Pod that joins the shares of a fan-out an earlier operator version started (its renderer drew
    every share and left the join to this Job): a render with VIDEOJOB_SHARDS and no index, which finds every
    scene in the cache and reads the storyboard the shares drew, then joins, muxes and uploads. Named and
    labelled as that version named it, so that a Job it had already made is not made twice."""
    metadata = videojob["metadata"]
    job = build_renderer_job(videojob, settings, attempt=attempt, memory=memory, scratch=scratch)
    job["metadata"]["name"] = job_name(metadata["name"], metadata["uid"], attempt) + ASSEMBLY_SUFFIX
    for labels in (job["metadata"]["labels"], job["spec"]["template"]["metadata"]["labels"]):
        labels[STEP_LABEL] = STEP_ASSEMBLY
    job["spec"]["template"]["spec"]["containers"][0]["env"].append({"name": "VIDEOJOB_SHARDS", "value": str(pods)})
    return job


def build_attempt_job(
    videojob: Mapping[str, Any],
    settings: OperatorSettings,
    *,
    attempt: int = 1,
    memory: str | None = None,
    scratch: str | None = None,
    deadline_seconds: int | None = None,
) -> dict[str, Any]:
    """The Job of an attempt: a fanned-out render's shares Job, else the single-Pod renderer Job."""
    pods = pods_at_once(VideoJobSpec.model_validate(videojob["spec"]), settings.max_concurrent_renders)
    if pods > 1:
        return build_shares_job(
            videojob,
            settings,
            pods=pods,
            attempt=attempt,
            memory=memory,
            scratch=scratch,
            deadline_seconds=deadline_seconds,
        )
    return build_renderer_job(
        videojob, settings, attempt=attempt, memory=memory, scratch=scratch, deadline_seconds=deadline_seconds
    )
