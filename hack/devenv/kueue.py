"""Kueue (sigs.k8s.io/kueue, built by ``tools``) as a process against the local control plane.

What a Helm install of Kueue would put in a cluster, made here from the module's own
``config/`` in the Go module cache:

* its CRDs (``config/components/crd/bases``), applied server-side;
* a Configuration file: the batch/Job integration only, no leader election, the webhook
  server on 127.0.0.1 with a certificate from a CA made for it here;
* its admission webhooks for Jobs and its own kinds (``config/components/webhook``),
  rewritten to reach that server by ``url`` (the API server runs on this machine, so
  127.0.0.1 is where it finds Kueue) with the CA as ``caBundle``. The mutating Job webhook
  is what suspends a new Job that carries the ``kueue.x-k8s.io/queue-name`` label.

Kueue's internal certificate management is off (it would want a Service the API server
dials); with it off, Kueue insists on a certificate for its metrics server at the fixed
path /etc/kueue/metrics/certs, which is written there when absent (the metrics server
itself stays off: ``bindAddress: "0"``). Webhooks with ``failurePolicy: Fail`` would
block every Job in the cluster once Kueue is gone, so :meth:`Kueue.stop` deletes them first.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import yaml

from videojob_devenv import pki, tools
from videojob_devenv.controlplane import ControlPlane
from videojob_devenv.processes import Component, StartError, free_port, https_ok

KUEUE_MODULE = "sigs.k8s.io/kueue"
NAMESPACE = "kueue-system"
WEBHOOK_NAMES = {"MutatingWebhookConfiguration": "videojob-kueue-mutating", "ValidatingWebhookConfiguration":
                 "videojob-kueue-validating"}  # fmt: skip
# The webhooks of the integration we enable (batch/Job) and of Kueue's own kinds; the others
# (Pods, Deployments, Ray...) would intercept objects no enabled integration serves.
WEBHOOK_PATH_PARTS = ("-batch-v1-job", "-kueue-x-k8s-io-")
METRICS_CERT_DIR = Path("/etc/kueue/metrics/certs")  # fixed in Kueue's main.go
START_TIMEOUT = 90.0


def module_dir(version: str = tools.KUEUE_VERSION) -> Path:
    """The Kueue module's source in the Go module cache (downloaded through the proxy if missing)."""
    result = subprocess.run(
        [tools.go_executable(), "mod", "download", "-json", f"{KUEUE_MODULE}@{version}"],
        capture_output=True,
        text=True,
        env=tools.go_environment(),
        timeout=600,
    )
    info = json.loads(result.stdout or "{}")
    if result.returncode != 0 or not info.get("Dir"):
        detail = info.get("Error") or result.stderr.strip() or f"exit code {result.returncode}"
        raise tools.ToolError(f"cannot download {KUEUE_MODULE}@{version} from the Go module proxy: {detail}")
    return Path(info["Dir"])


def configuration(webhook_port: int, health_port: int, cert_dir: Path) -> dict[str, Any]:
    """Kueue's Configuration (config.kueue.x-k8s.io/v1beta2) for one local manager."""
    return {
        "apiVersion": "config.kueue.x-k8s.io/v1beta2",
        "kind": "Configuration",
        "namespace": NAMESPACE,
        "health": {"healthProbeBindAddress": f"127.0.0.1:{health_port}"},
        "metrics": {"bindAddress": "0"},
        "webhook": {"host": "127.0.0.1", "port": webhook_port, "certDir": str(cert_dir)},
        "leaderElection": {"leaderElect": False},
        "internalCertManagement": {"enable": False},
        "manageJobsWithoutQueueName": False,
        "integrations": {"frameworks": ["batch/job"]},
    }


def local_webhooks(manifests: str, webhook_port: int, ca_bundle: bytes) -> list[dict[str, Any]]:
    """Kueue's webhook configurations, reduced to the Job and Kueue webhooks and pointed at 127.0.0.1."""
    configurations = []
    for document in yaml.safe_load_all(manifests):
        if not document or document.get("kind") not in WEBHOOK_NAMES:
            continue
        hooks = []
        for hook in document.get("webhooks") or []:
            path = hook["clientConfig"]["service"]["path"]
            if any(part in path for part in WEBHOOK_PATH_PARTS):
                hook = dict(hook)
                hook["clientConfig"] = {
                    "url": f"https://127.0.0.1:{webhook_port}{path}",
                    "caBundle": base64.b64encode(ca_bundle).decode(),
                }
                hooks.append(hook)
        configurations.append(
            {
                "apiVersion": document["apiVersion"],
                "kind": document["kind"],
                "metadata": {"name": WEBHOOK_NAMES[document["kind"]]},
                "webhooks": hooks,
            }
        )
    return configurations


@dataclasses.dataclass
class Kueue:
    cluster: ControlPlane
    state_dir: Path
    version: str = tools.KUEUE_VERSION
    component: Component | None = None
    webhook_port: int | None = None
    health_port: int | None = None
    started_in: float | None = None

    def start(self) -> float:
        binary = tools.require_binary("kueue")
        began = time.monotonic()
        source = module_dir(self.version)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.webhook_port, self.health_port = webhook_port, health_port = free_port(), free_port()
        ca = pki.CertificateAuthority(self.state_dir / "pki", common_name="videojob-kueue-webhook-ca")
        cert_dir = self.state_dir / "webhook-certs"
        cert_dir.mkdir(exist_ok=True)
        served = ca.issue("webhook", "kueue-webhook", server=True, ip_addresses=("127.0.0.1",))
        (cert_dir / "tls.crt").write_bytes(served.cert.read_bytes())
        (cert_dir / "tls.key").write_bytes(served.key.read_bytes())
        _ensure_metrics_cert(ca)
        config = self.state_dir / "kueue-config.yaml"
        config.write_text(yaml.safe_dump(configuration(webhook_port, health_port, cert_dir)))

        crds = source / "config/components/crd/bases"
        self.cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(crds))
        self._wait_established(crds)
        self.cluster.kubectl("create", "namespace", NAMESPACE, check=False)
        self.component = Component(
            "kueue",
            [str(binary), f"--config={config}", "--feature-gates=VisibilityOnDemand=false", "--zap-log-level=info"],
            self.state_dir / "logs" / "kueue.log",
            env=dict(os.environ, KUBECONFIG=str(self.cluster.kubeconfig)),
        )
        self.component.start()
        try:
            ready = f"http://127.0.0.1:{health_port}/readyz"
            self.component.wait_ready(lambda: https_ok(ready), START_TIMEOUT)
            self.component.wait_ready(lambda: _listening(webhook_port), START_TIMEOUT)
            manifests = (source / "config/components/webhook/manifests.yaml").read_text()
            for webhook in local_webhooks(manifests, webhook_port, ca.pair.cert.read_bytes()):
                self.cluster.kubectl("apply", "-f", "-", input=json.dumps(webhook))
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - began
        return self.started_in

    def _wait_established(self, crds: Path) -> None:
        """Until Kueue's CRDs are served; a busy API server may answer a wait with an error, so ask again."""
        deadline, answer = time.monotonic() + START_TIMEOUT, ""
        while time.monotonic() < deadline:
            waited = self.cluster.kubectl(
                "wait", "--for=condition=Established", "--timeout=10s", "-f", str(crds), check=False, timeout=30
            )
            if waited.returncode == 0:
                return
            answer = (waited.stderr or waited.stdout).strip()
            time.sleep(1)
        raise StartError(f"Kueue's CRDs were not Established within {START_TIMEOUT:.0f}s: {answer}")

    def stop(self) -> None:
        for kind, name in WEBHOOK_NAMES.items():
            self.cluster.kubectl("delete", kind.lower(), name, "--ignore-not-found", check=False)
        if self.component is not None:
            self.component.stop()
            self.component = None

    def log_tail(self, lines: int = 40) -> str:
        path = self.state_dir / "logs" / "kueue.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _ensure_metrics_cert(ca: pki.CertificateAuthority) -> None:
    if (METRICS_CERT_DIR / "tls.crt").exists() and (METRICS_CERT_DIR / "tls.key").exists():
        return
    try:
        METRICS_CERT_DIR.mkdir(parents=True, exist_ok=True)
        pair = ca.issue("metrics", "kueue-metrics", server=True, ip_addresses=("127.0.0.1",))
        (METRICS_CERT_DIR / "tls.crt").write_bytes(pair.cert.read_bytes())
        (METRICS_CERT_DIR / "tls.key").write_bytes(pair.key.read_bytes())
    except OSError as error:
        raise StartError(
            f"Kueue reads a metrics certificate from {METRICS_CERT_DIR} (a path fixed in its main.go) and "
            f"it cannot be written there: {error}. Run as root, or create that directory writable for you."
        ) from error
