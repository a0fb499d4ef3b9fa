"""The operator started for renders on the real node (tests/e2e): its image, S3 and Secret."""

from __future__ import annotations

from pathlib import Path

from videojob_devenv.controlplane import ControlPlane
from videojob_devenv.images import Image
from videojob_devenv.minio import MinioServer
from videojob_devenv.operator_process import OperatorProcess

from .launcher import launch_operator

NODE_S3_SECRET = "videojob-s3"  # the Secret with the node MinIO's keys that renderer Pods read


def start_node_operator(
    kube_cluster: ControlPlane,
    namespace: str,
    node_minio: MinioServer,
    renderer_image: Image,
    log: Path,
    **settings: str,
) -> OperatorProcess:
    """The operator as a real process for renders on the real node: the renderer image loaded
    there, and the S3 credentials Secret its Pods read, in ``namespace``."""
    kube_cluster.kubectl(
        "create",
        "secret",
        "generic",
        NODE_S3_SECRET,
        "-n",
        namespace,
        f"--from-literal=accessKey={node_minio.access_key}",
        f"--from-literal=secretKey={node_minio.secret_key}",
    )
    return launch_operator(
        kube_cluster.kubeconfig,
        namespace,
        log,
        VIDEOJOB_RENDERER_IMAGE=renderer_image.ref,
        VIDEOJOB_S3_ENDPOINT=f"http://{node_minio.pod_endpoint}",
        VIDEOJOB_S3_BUCKET=node_minio.bucket,
        VIDEOJOB_S3_SECRET_NAME=NODE_S3_SECRET,
        **settings,
    )
