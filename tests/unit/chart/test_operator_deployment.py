"""The operator Deployment: restricted security context, settings as VIDEOJOB_* env, kopf's probe, metrics port."""

from __future__ import annotations

import os
from typing import Any

import pytest

from support.chart import find, render
from videojob.operator.settings import ENV_PREFIX, OperatorSettings, load_settings

POD_SECURITY = {
    "runAsNonRoot": True,
    "runAsUser": 10001,
    "runAsGroup": 10001,
    "fsGroup": 10001,
    "seccompProfile": {"type": "RuntimeDefault"},
}
CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}
CREDENTIALS = [
    {
        "name": "VIDEOJOB_S3_ACCESS_KEY",
        "valueFrom": {"secretKeyRef": {"name": "videojob-s3", "key": "accessKey", "optional": True}},
    },
    {
        "name": "VIDEOJOB_S3_SECRET_KEY",
        "valueFrom": {"secretKeyRef": {"name": "videojob-s3", "key": "secretKey", "optional": True}},
    },
]


def value(name: str, text: str) -> dict[str, str]:
    return {"name": name, "value": text}


DEFAULT_ENV = [
    value("MALLOC_ARENA_MAX", "2"),
    value("VIDEOJOB_NAMESPACES", ""),
    value("VIDEOJOB_MAX_CONCURRENT_RENDERS", "4"),
    value("VIDEOJOB_OOM_MEMORY_FACTOR", "1.5"),
    value("VIDEOJOB_OOM_MEMORY_CEILING", "8Gi"),
    value("VIDEOJOB_SCRATCH_FACTOR", "2"),
    value("VIDEOJOB_SCRATCH_CEILING", "40Gi"),
    value("VIDEOJOB_CACHE_RETENTION", "0"),
    value("VIDEOJOB_PROGRESS_LOG_TAIL_LINES", "50"),
    value("VIDEOJOB_RENDERER_IMAGE", "ghcr.io/videojob/renderer:0.1.0"),
    value("VIDEOJOB_RENDERER_IMAGE_PULL_POLICY", "IfNotPresent"),
    value("VIDEOJOB_S3_ENDPOINT", "http://minio.videojob-system.svc:9000"),
    value("VIDEOJOB_S3_BUCKET", "videos"),
    value("VIDEOJOB_S3_SECRET_NAME", "videojob-s3"),
    value("VIDEOJOB_S3_ACCESS_KEY_KEY", "accessKey"),
    value("VIDEOJOB_S3_SECRET_KEY_KEY", "secretKey"),
    *CREDENTIALS,
    value("VIDEOJOB_METRICS_PORT", "8080"),
    value("VIDEOJOB_LIVENESS_ENDPOINT", "http://0.0.0.0:8081/healthz"),
    value("VIDEOJOB_LOG_LEVEL", "INFO"),
    value("VIDEOJOB_LOG_FORMAT", "json"),
]


def operator_pod(sets: list[str] | None = None) -> dict[str, Any]:
    return find(render(sets or []), "Deployment", "videojob-operator")["spec"]["template"]["spec"]


def test_pod_runs_restricted_non_root_read_only_without_capabilities() -> None:
    pod = operator_pod()
    assert pod["securityContext"] == POD_SECURITY
    [container] = pod["containers"]
    assert container["securityContext"] == CONTAINER_SECURITY
    # The read-only root leaves /tmp as the only writable place.
    assert container["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    assert pod["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
    assert pod["serviceAccountName"] == "videojob-operator"


def test_default_env_is_every_setting_from_values() -> None:
    [container] = operator_pod()["containers"]
    assert container["env"] == DEFAULT_ENV


def test_values_reach_the_env_the_operator_reads() -> None:
    sets = [
        "operator.watchNamespaces={team-a,team-b}",
        "operator.maxConcurrentRenders=7",
        "operator.oomMemoryFactor=2",
        "operator.oomMemoryCeiling=16Gi",
        "operator.cacheRetention=30d",
        "operator.presets.high.memory=12Gi",
        "renderer.image.repository=registry.example/renderer",
        "renderer.image.tag=1.2.3",
        "renderer.serviceAccountName=renderer",
        "s3.endpoint=https://s3.example.com",
        "s3.credentialsSecret=",
    ]
    [container] = operator_pod(sets)["containers"]
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert env["VIDEOJOB_NAMESPACES"] == "team-a,team-b"
    assert env["VIDEOJOB_MAX_CONCURRENT_RENDERS"] == "7"
    assert (env["VIDEOJOB_OOM_MEMORY_FACTOR"], env["VIDEOJOB_OOM_MEMORY_CEILING"]) == ("2", "16Gi")
    assert env["VIDEOJOB_CACHE_RETENTION"] == "30d"
    assert env["VIDEOJOB_PRESETS"] == '{"high":{"memory":"12Gi"}}'
    assert env["VIDEOJOB_RENDERER_IMAGE"] == "registry.example/renderer:1.2.3"
    assert env["VIDEOJOB_RENDERER_SERVICE_ACCOUNT"] == "renderer"
    assert env["VIDEOJOB_S3_ENDPOINT"] == "https://s3.example.com"
    assert "VIDEOJOB_S3_ACCESS_KEY" not in env  # no credentialsSecret: no keys


def test_every_env_name_is_a_setting_the_operator_knows() -> None:
    [container] = operator_pod(["operator.presets.low.cpu=2500m", "renderer.serviceAccountName=r"])["containers"]
    outside_settings = {"MALLOC_ARENA_MAX", "VIDEOJOB_LIVENESS_ENDPOINT", "VIDEOJOB_LOG_LEVEL", "VIDEOJOB_LOG_FORMAT"}
    known = {ENV_PREFIX + field.upper() for field in OperatorSettings.model_fields} | outside_settings
    assert {item["name"] for item in container["env"]} - known == set()


def test_liveness_probe_calls_kopfs_endpoint_and_metrics_port_is_named() -> None:
    [container] = operator_pod(["operator.livenessPort=9091"])["containers"]
    assert {"name": "VIDEOJOB_LIVENESS_ENDPOINT", "value": "http://0.0.0.0:9091/healthz"} in container["env"]
    assert container["ports"] == [
        {"name": "metrics", "containerPort": 8080},
        {"name": "healthz", "containerPort": 9091},
    ]
    assert container["livenessProbe"] == {
        "httpGet": {"path": "/healthz", "port": "healthz"},
        "periodSeconds": 20,
        "timeoutSeconds": 5,
        "failureThreshold": 3,
    }


def test_operator_service_exposes_the_port_named_metrics() -> None:
    service = find(render(), "Service", "videojob-operator")
    assert service["spec"]["ports"] == [{"name": "metrics", "port": 8080, "targetPort": "metrics", "protocol": "TCP"}]
    pod_labels = find(render(), "Deployment", "videojob-operator")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()


def test_the_operator_settings_accept_the_rendered_env(monkeypatch: pytest.MonkeyPatch) -> None:
    sets = ["operator.watchNamespaces={team-a}", "operator.presets.high.memory=12Gi", "operator.maxConcurrentRenders=9"]
    [container] = operator_pod(sets)["containers"]
    for name in [n for n in os.environ if n.startswith(ENV_PREFIX)]:
        monkeypatch.delenv(name)
    for item in container["env"]:
        if "value" in item:
            monkeypatch.setenv(item["name"], item["value"])
    settings = load_settings()
    assert settings.namespaces == ["team-a"]
    assert settings.max_concurrent_renders == 9
    assert settings.presets["high"].memory == "12Gi"
    assert settings.renderer_image == "ghcr.io/videojob/renderer:0.1.0"
    assert settings.metrics_port == 8080
