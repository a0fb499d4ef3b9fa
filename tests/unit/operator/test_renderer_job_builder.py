"""The renderer Job is built by a pure function; these tests compare the whole dict."""

from __future__ import annotations

import copy
import json

import pytest

from videojob.operator.builders import (
    build_attempt_job,
    build_renderer_job,
    build_shares_job,
    build_spec_configmap,
    job_name,
    renderer_resources,
)
from videojob.operator.settings import OperatorSettings
from videojob.spec import VideoJobSpec

UID = "3f0c6a52-9d1e-4c55-8a53-0c1f6b7f2e10"
JOB = "lesson-58221766-1"
SPEC_CONFIGMAP = "lesson-58221766-0-s"


def _videojob(**spec):
    return {
        "apiVersion": "videojob.dev/v1alpha1",
        "kind": "VideoJob",
        "metadata": {"name": "lesson", "namespace": "team-a", "uid": UID, "generation": 1},
        "spec": {"source": {"markdown": "# Pythagoras\n\n$$a^2+b^2=c^2$$\n"}} | spec,
    }


LABELS = {
    "app.kubernetes.io/name": "videojob-renderer",
    "app.kubernetes.io/managed-by": "videojob-operator",
    "videojob.dev/name": "lesson",
    "videojob.dev/uid": UID,
    "videojob.dev/attempt": "1",
}
OWNER = {
    "apiVersion": "videojob.dev/v1alpha1",
    "kind": "VideoJob",
    "name": "lesson",
    "uid": UID,
    "controller": True,
    "blockOwnerDeletion": True,
}


def _env(extra=()):
    return [
        {"name": "VIDEOJOB_SPEC_FILE", "value": "/etc/videojob/spec.json"},
        {"name": "VIDEOJOB_NAMESPACE", "value": "team-a"},
        {"name": "VIDEOJOB_NAME", "value": "lesson"},
        {"name": "VIDEOJOB_UID", "value": UID},
        {"name": "VIDEOJOB_QUALITY", "value": "medium"},
        {"name": "VIDEOJOB_OUTPUT_BUCKET", "value": "videos"},
        {"name": "VIDEOJOB_OUTPUT_PREFIX", "value": f"outputs/team-a/lesson/{UID}/"},
        {"name": "VIDEOJOB_S3_ENDPOINT", "value": "http://minio.videojob.svc:9000"},
        {"name": "AWS_ACCESS_KEY_ID", "valueFrom": {"secretKeyRef": {"name": "videojob-s3", "key": "accessKey"}}},
        {"name": "AWS_SECRET_ACCESS_KEY", "valueFrom": {"secretKeyRef": {"name": "videojob-s3", "key": "secretKey"}}},
        {"name": "HOME", "value": "/scratch"},
        {"name": "TMPDIR", "value": "/scratch/tmp"},
        {"name": "VIDEOJOB_LOG_FORMAT", "value": "json"},
        *extra,
    ]


def _expected_job(
    *, resources=None, env=None, scratch="5Gi", backoff=2, deadline=3600, suspend=False, job_labels=None, pod_extra=None
):
    pod_spec = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "runAsGroup": 10001,
            "fsGroup": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [
            {
                "name": "renderer",
                "image": "ghcr.io/videojob/renderer:0.1.0",
                "imagePullPolicy": "IfNotPresent",
                "env": env or _env(),
                "resources": resources
                or {"requests": {"cpu": "2", "memory": "2Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}},
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "runAsNonRoot": True,
                    "capabilities": {"drop": ["ALL"]},
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "FallbackToLogsOnError",
                "volumeMounts": [
                    {"name": "scratch", "mountPath": "/scratch"},
                    {"name": "spec", "mountPath": "/etc/videojob", "readOnly": True},
                ],
            }
        ],
        "volumes": [
            {"name": "scratch", "emptyDir": {"sizeLimit": scratch}},
            {"name": "spec", "configMap": {"name": SPEC_CONFIGMAP}},
        ],
    } | (pod_extra or {})
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": JOB, "namespace": "team-a", "labels": job_labels or LABELS, "ownerReferences": [OWNER]},
        "spec": {
            "backoffLimit": backoff,
            "activeDeadlineSeconds": deadline,
            "suspend": suspend,
            "completions": 1,
            "parallelism": 1,
            "podReplacementPolicy": "Failed",
            "podFailurePolicy": {
                "rules": [
                    {
                        "action": "FailJob",
                        "onExitCodes": {"containerName": "renderer", "operator": "In", "values": [65]},
                    },
                    {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
                    {  # an OOM kill: the operator starts the next attempt with more memory, no retry at this size
                        "action": "FailJob",
                        "onExitCodes": {"containerName": "renderer", "operator": "In", "values": [137]},
                    },
                ]
            },
            "template": {"metadata": {"labels": LABELS}, "spec": pod_spec},
        },
    }


def test_defaults_give_a_hardened_medium_quality_job():
    assert build_renderer_job(_videojob(), OperatorSettings()) == _expected_job()


def test_every_execution_field_of_the_spec_reaches_the_job():
    videojob = _videojob(
        quality="high",
        retries=5,
        activeDeadlineSeconds=600,
        suspend=True,
        queueName="renders",
        priorityClassName="batch-high",
        llm={
            "provider": "openai",
            "baseURL": "http://llm.local:8000/v1",
            "apiKey": {"secretKeyRef": {"name": "openai", "key": "apiKey"}},
        },
        output={"bucket": "team-videos", "prefix": "lessons/2026"},
    )
    env = _env(
        (
            {"name": "OPENAI_BASE_URL", "value": "http://llm.local:8000/v1"},
            {"name": "OPENAI_API_KEY", "valueFrom": {"secretKeyRef": {"name": "openai", "key": "apiKey"}}},
        )
    )
    env[4] = {"name": "VIDEOJOB_QUALITY", "value": "high"}
    env[5] = {"name": "VIDEOJOB_OUTPUT_BUCKET", "value": "team-videos"}
    env[6] = {"name": "VIDEOJOB_OUTPUT_PREFIX", "value": f"lessons/2026/outputs/team-a/lesson/{UID}/"}
    expected = _expected_job(
        resources={"requests": {"cpu": "4", "memory": "4Gi"}, "limits": {"cpu": "4", "memory": "4Gi"}},
        env=env,
        scratch="10Gi",
        backoff=5,
        deadline=600,
        suspend=True,
        job_labels=LABELS | {"kueue.x-k8s.io/queue-name": "renders"},
        pod_extra={"priorityClassName": "batch-high"},
    )
    assert build_renderer_job(videojob, OperatorSettings()) == expected


def test_a_fanned_out_render_is_an_indexed_job_whose_indexes_retry_alone():
    videojob = _videojob(parallelism=3, retries=4, quality="low")
    shares_labels = LABELS | {"videojob.dev/step": "shares"}
    expected = _expected_job(
        resources={"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
        env=_env(({"name": "VIDEOJOB_SHARDS", "value": "3"},)),
        scratch="2Gi",
        job_labels=shares_labels,
    )
    del expected["spec"]["backoffLimit"]
    expected["spec"]["template"]["spec"]["containers"][0]["env"][4] = {"name": "VIDEOJOB_QUALITY", "value": "low"}
    expected["spec"]["template"]["metadata"]["labels"] = shares_labels
    expected["spec"] |= {
        "completionMode": "Indexed",
        "completions": 3,
        "parallelism": 3,
        "backoffLimitPerIndex": 4,  # spec.retries, per index: a failed index retries alone
        "maxFailedIndexes": 0,  # an index out of retries fails the render without waiting for the others
    }
    assert build_shares_job(videojob, OperatorSettings(), pods=3) == expected


def test_a_later_attempt_gets_what_is_left_of_the_deadline_and_long_names_keep_their_length():
    videojob = _videojob(parallelism=3, activeDeadlineSeconds=600)
    first, later = (build_attempt_job(videojob, OperatorSettings(), attempt=n, deadline_seconds=d)
                    for n, d in ((1, None), (2, 412)))  # fmt: skip
    assert (first["spec"]["activeDeadlineSeconds"], later["spec"]["activeDeadlineSeconds"]) == (600, 412)
    single = build_renderer_job(_videojob(), OperatorSettings(), deadline_seconds=90)
    assert single["spec"]["activeDeadlineSeconds"] == 90
    # Names are what earlier versions made (a character kept for their assembly Job): no second Job on upgrade.
    long = _videojob(parallelism=3) | {"metadata": {"name": "x" * 63, "namespace": "team-a", "uid": UID}}
    assert build_shares_job(long, OperatorSettings(), pods=3, attempt=2)["metadata"]["name"] == "x" * 51 + "-58221766-2"


def test_spec_resources_override_the_preset_field_by_field():
    spec = VideoJobSpec.model_validate(
        {
            "source": {"markdown": "# A"},
            "quality": "low",
            "resources": {"limits": {"memory": "3Gi"}, "requests": {"cpu": "500m"}},
        }
    )
    assert renderer_resources(spec, OperatorSettings()) == {
        "requests": {"cpu": "500m", "memory": "1Gi"},
        "limits": {"cpu": "1", "memory": "3Gi"},
    }


def test_a_request_above_the_preset_limit_lifts_the_limit_with_it():
    spec = VideoJobSpec.model_validate(
        {"source": {"markdown": "# A"}, "quality": "low", "resources": {"requests": {"memory": "8Gi"}}}
    )
    assert renderer_resources(spec, OperatorSettings())["limits"]["memory"] == "8Gi"


def test_operator_presets_can_be_overridden(monkeypatch):
    monkeypatch.setenv("VIDEOJOB_PRESETS", json.dumps({"medium": {"cpu": "3"}}))
    settings = OperatorSettings()
    job = build_renderer_job(_videojob(), settings)
    assert job["spec"]["template"]["spec"]["containers"][0]["resources"] == {
        "requests": {"cpu": "3", "memory": "2Gi"},
        "limits": {"cpu": "3", "memory": "2Gi"},
    }


def test_credentials_are_never_inline_values():
    videojob = _videojob(llm={"provider": "openai", "apiKey": {"secretKeyRef": {"name": "openai", "key": "k"}}})
    env = build_renderer_job(videojob, OperatorSettings())["spec"]["template"]["spec"]["containers"][0]["env"]
    secrets = {item["name"] for item in env if "valueFrom" in item}
    assert secrets == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "OPENAI_API_KEY"}
    assert not any("KEY" in item["name"] and "value" in item for item in env)


@pytest.mark.parametrize("name", ["a", "lesson", "x" * 253, "a.b.c-" + "y" * 80])
def test_job_names_are_deterministic_short_valid_and_unique_per_uid(name):
    first = job_name(name, UID, 1)
    assert first == job_name(name, UID, 1)
    assert first != job_name(name, "another-uid", 1) and first != job_name(name, UID, 2)
    assert len(first) <= 63 and first[0].isalnum() and first[-1].isalnum()


def test_spec_configmap_carries_the_canonical_spec_and_is_immutable():
    configmap = build_spec_configmap(_videojob(), VideoJobSpec.model_validate(_videojob()["spec"]))
    assert configmap == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": SPEC_CONFIGMAP,
            "namespace": "team-a",
            "labels": {k: v for k, v in LABELS.items() if k != "videojob.dev/attempt"},
            "ownerReferences": [OWNER],
        },
        "immutable": True,
        "data": {
            "spec.json": json.dumps(
                VideoJobSpec.model_validate(_videojob()["spec"]).to_wire(), sort_keys=True, separators=(",", ":")
            )
        },
    }


def test_builder_does_not_modify_its_input():
    videojob = _videojob(quality="low")
    before = copy.deepcopy(videojob)
    build_renderer_job(videojob, OperatorSettings())
    assert videojob == before
