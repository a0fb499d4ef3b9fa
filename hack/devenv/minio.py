"""A real MinIO server on loopback, built from source by ``tools``.

Each start gets random root credentials, a fresh data directory and a bucket.
It listens on 127.0.0.1 and, when asked, on further addresses of this machine
(the node's bridge gateway, so Pods can reach it) — never on all interfaces.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import time
from pathlib import Path

from videojob_devenv import tools
from videojob_devenv.processes import Component, ProcessRecord, free_port, https_ok, require_free_port

START_TIMEOUT = 60.0
STATE_FILE = "minio.json"
DEFAULT_BUCKET = "videojob"


@dataclasses.dataclass
class MinioServer:
    state_dir: Path
    bucket: str = DEFAULT_BUCKET
    port: int | None = None
    tie_to_parent: bool = True
    # An address of this machine (the node's bridge gateway) to listen on besides loopback.
    pod_host: str | None = None
    access_key: str = dataclasses.field(default_factory=lambda: "vj" + secrets.token_hex(8))
    secret_key: str = dataclasses.field(default_factory=lambda: secrets.token_urlsafe(24))
    component: Component | None = None
    started_in: float | None = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    @property
    def pod_endpoint(self) -> str:
        """Where Pods reach this server (the extra address), e.g. 10.244.0.1:9000."""
        if self.pod_host is None:
            raise ValueError("this MinIO listens on loopback only; start it with pod_host= the node's gateway")
        return f"{self.pod_host}:{self.port}"

    def start(self) -> float:
        binary = tools.require_binary("minio")
        began = time.monotonic()
        if self.port is None:
            self.port = free_port(self.pod_host or "127.0.0.1")
        for host in ("127.0.0.1", self.pod_host) if self.pod_host else ("127.0.0.1",):
            require_free_port(
                self.port, host, what="MinIO", hint="stop whatever holds it, or choose another with --minio-port"
            )
        # Given a host, MinIO listens on it *and* on loopback: exactly the two places we want.
        address = f"{self.pod_host}:{self.port}" if self.pod_host else self.endpoint
        data = self.state_dir / "minio-data"
        data.mkdir(parents=True, exist_ok=True)
        env = dict(
            os.environ,
            MINIO_ROOT_USER=self.access_key,
            MINIO_ROOT_PASSWORD=self.secret_key,
            MINIO_BROWSER="off",
            MINIO_UPDATE="off",
            MINIO_CI_CD="1",
        )
        self.component = Component(
            "minio",
            [
                str(binary),
                "server",
                str(data),
                f"--address={address}",
                f"--console-address=127.0.0.1:{free_port()}",
                "--quiet",
            ],
            self.state_dir / "logs" / "minio.log",
            env=env,
            tie_to_parent=self.tie_to_parent,
        )
        self.component.start()
        try:
            self.component.wait_ready(lambda: https_ok(f"{self.url}/minio/health/ready"), START_TIMEOUT)
            client = self.client()
            if not client.bucket_exists(self.bucket):
                client.make_bucket(self.bucket)
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - began
        ProcessRecord(self.state_dir / STATE_FILE).write({"minio": self.component.started_pid}, **self.describe())
        return self.started_in

    def describe(self) -> dict[str, str]:
        described = {
            "endpoint": self.endpoint,
            "url": self.url,
            "bucket": self.bucket,
            "access_key": self.access_key,
            "secret_key": self.secret_key,
        }
        return described | ({"pod_endpoint": self.pod_endpoint} if self.pod_host else {})

    def client(self, endpoint: str | None = None):
        """A client for ``endpoint`` (default loopback); presigned URLs for Pods need ``pod_endpoint``."""
        from minio import Minio  # the CLI's `status` needs no client

        return Minio(
            endpoint or self.endpoint,
            access_key=self.access_key,
            secret_key=self.secret_key,
            secure=False,
            region="us-east-1",
        )

    def stop(self) -> None:
        if self.component is not None:
            self.component.stop()
            self.component = None
        self.stop_saved(self.state_dir)

    @staticmethod
    def stop_saved(state_dir: Path) -> bool:
        return ProcessRecord(state_dir / STATE_FILE).stop() is not None

    @staticmethod
    def status(state_dir: Path) -> dict | None:
        """The recorded server (endpoint, bucket, credentials) with ``running`` as one flag."""
        saved = ProcessRecord(state_dir / STATE_FILE).read()
        return None if saved is None else saved | {"running": all(saved["running"].values())}
