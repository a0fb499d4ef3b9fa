"""``minio.enabled``: one MinIO Pod that becomes every component's S3, rendered by the real helm."""

from __future__ import annotations

import base64
from typing import Any

from unit.chart.test_operator_deployment import CONTAINER_SECURITY, POD_SECURITY

from support.chart import find, helm, render, template_args

MINIO = "videojob-minio"
IN_CLUSTER_ENDPOINT = "http://videojob-minio.videojob-system.svc:9000"


def env_of(deployment: dict[str, Any]) -> dict[str, Any]:
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in container["env"]}


def test_minio_is_off_by_default_and_s3_endpoint_is_used() -> None:
    objects = render()
    assert [o for o in objects if "minio" in o["metadata"]["name"]] == []
    assert env_of(find(objects, "Deployment", "videojob-operator"))["VIDEOJOB_S3_ENDPOINT"] == (
        "http://minio.videojob-system.svc:9000"
    )


def test_minio_becomes_the_s3_endpoint_of_the_operator_and_the_gateway() -> None:
    objects = render(["minio.enabled=true", "s3.endpoint=https://ignored.example.com"])
    operator, gateway = (env_of(find(objects, "Deployment", f"videojob-{name}")) for name in ("operator", "gateway"))
    assert operator["VIDEOJOB_S3_ENDPOINT"] == gateway["VIDEOJOB_GATEWAY_S3_ENDPOINT"] == IN_CLUSTER_ENDPOINT
    service = find(objects, "Service", MINIO)["spec"]
    assert service["ports"] == [{"name": "s3", "port": 9000, "targetPort": "s3", "protocol": "TCP"}]
    pod_labels = find(objects, "Deployment", MINIO)["spec"]["template"]["metadata"]["labels"]
    assert service["selector"].items() <= pod_labels.items()


def test_generated_keys_are_the_secret_that_minio_the_operator_and_the_gateway_read() -> None:
    objects = render(["minio.enabled=true"])
    secret = find(objects, "Secret", "videojob-s3")
    keys = {name: base64.b64decode(value).decode() for name, value in secret["data"].items()}
    assert len(keys["accessKey"]) == 20 and len(keys["secretKey"]) == 40 and keys["accessKey"].isalnum()
    minio_env = env_of(find(objects, "Deployment", MINIO))
    assert minio_env["MINIO_ROOT_USER"] == {"secretKeyRef": {"name": "videojob-s3", "key": "accessKey"}}
    assert minio_env["MINIO_ROOT_PASSWORD"] == {"secretKeyRef": {"name": "videojob-s3", "key": "secretKey"}}
    operator_env = env_of(find(objects, "Deployment", "videojob-operator"))
    assert operator_env["VIDEOJOB_S3_ACCESS_KEY"]["secretKeyRef"]["name"] == "videojob-s3"
    assert operator_env["VIDEOJOB_S3_SECRET_NAME"] == "videojob-s3"  # renderers here read the same Secret
    another = find(render(["minio.enabled=true"]), "Secret", "videojob-s3")
    assert another["data"] != secret["data"]  # random per install (an upgrade keeps them via lookup)


def test_with_your_own_credentials_no_secret_is_generated() -> None:
    objects = render(["minio.enabled=true", "minio.generateCredentials=false", "s3.credentialsSecret=my-keys"])
    assert [o for o in objects if o["kind"] == "Secret"] == []
    env = env_of(find(objects, "Deployment", MINIO))
    assert env["MINIO_ROOT_USER"]["secretKeyRef"]["name"] == "my-keys"


def test_minio_without_a_credentials_secret_is_refused_naming_it() -> None:
    completed = helm(*template_args(["minio.enabled=true", "s3.credentialsSecret="]), check=False)
    assert completed.returncode != 0 and "s3.credentialsSecret" in completed.stderr


def test_the_bucket_is_made_as_a_directory_before_the_server_starts() -> None:
    spec = find(render(["minio.enabled=true", "s3.bucket=lessons"]), "Deployment", MINIO)["spec"]["template"]["spec"]
    [init] = spec["initContainers"]
    assert init["command"][-1] == "/data/lessons" and init["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]
    [server] = spec["containers"]
    assert "command" not in server and server["args"][:2] == ["server", "/data"]  # the image's entrypoint: minio


def test_minio_runs_restricted_with_no_api_token() -> None:
    spec = find(render(["minio.enabled=true"]), "Deployment", MINIO)["spec"]["template"]["spec"]
    assert spec["securityContext"] == POD_SECURITY and spec["automountServiceAccountToken"] is False
    for container in spec["initContainers"] + spec["containers"]:
        assert container["securityContext"] == CONTAINER_SECURITY, container["name"]
    [server] = spec["containers"]
    assert server["readinessProbe"]["httpGet"] == {"path": "/minio/health/ready", "port": "s3"}


def test_without_persistence_the_data_is_an_emptydir_and_with_it_a_kept_claim() -> None:
    spec = find(render(["minio.enabled=true"]), "Deployment", MINIO)["spec"]["template"]["spec"]
    assert {"name": "data", "emptyDir": {"sizeLimit": "10Gi"}} in spec["volumes"]
    objects = render(["minio.enabled=true", "minio.persistence.enabled=true", "minio.persistence.size=50Gi"])
    claim = find(objects, "PersistentVolumeClaim", MINIO)
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert claim["spec"]["resources"]["requests"]["storage"] == "50Gi"
    volumes = find(objects, "Deployment", MINIO)["spec"]["template"]["spec"]["volumes"]
    assert {"name": "data", "persistentVolumeClaim": {"claimName": MINIO}} in volumes


def test_a_size_that_is_not_a_quantity_is_refused_at_its_path() -> None:
    completed = helm(*template_args(["minio.enabled=true", "minio.persistence.size=lots"]), check=False)
    assert completed.returncode != 0 and "/minio/persistence/size" in completed.stderr
