"""A real Kubernetes control plane on loopback: etcd, kube-apiserver,
kube-controller-manager and kube-scheduler, built from source by ``tools``.

Every start generates its own certificates and service-account keys, picks free
ports, writes an admin kubeconfig and waits until the API server is ready and the
controllers have done their first work (the ``default`` ServiceAccount exists).
Used by the test fixtures (components die with the test process) and by
``hack/cluster up`` (components outlive the command; their pids are saved).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import ssl
import subprocess
import time
from pathlib import Path

from videojob_devenv import pki, tools
from videojob_devenv.processes import (
    Component,
    ProcessRecord,
    StartError,
    free_port,
    https_ok,
    insecure_tls,
    require_free_port,
)

SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"
KUBERNETES_SERVICE_IP = "10.0.0.1"  # the first address of the range: the `kubernetes` Service
CLUSTER_DNS_IP = "10.0.0.10"  # the `kube-dns` Service that CoreDNS answers behind
CLUSTER_DOMAIN = "cluster.local"
# The `kubernetes` Service's endpoint, the address a node (its kubelet, kube-proxy, Pods) calls the
# API server at. No interface holds it: each node's namespace routes it to the host, where it is
# translated to the loopback listener (``nodenet``), so one address serves every local cluster.
APISERVER_ADVERTISE_ADDRESS = "10.243.255.1"
START_TIMEOUT = 90.0
STATE_FILE = "controlplane.json"


def _kubeconfig(path: Path, server: str, ca: Path, user: pki.KeyPair, name: str) -> Path:
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {"name": "videojob-local", "cluster": {"server": server, "certificate-authority": str(ca)}}
                ],
                "users": [{"name": name, "user": {"client-certificate": str(user.cert), "client-key": str(user.key)}}],
                "contexts": [{"name": "videojob-local", "context": {"cluster": "videojob-local", "user": name}}],
                "current-context": "videojob-local",
            },
            indent=2,
        )
    )
    path.chmod(0o600)
    return path


@dataclasses.dataclass
class ControlPlane:
    state_dir: Path
    apiserver_port: int | None = None
    tie_to_parent: bool = True
    components: list[Component] = dataclasses.field(default_factory=list)
    started_in: float | None = None

    # --- paths ----------------------------------------------------------------
    @property
    def pki_dir(self) -> Path:
        return self.state_dir / "pki"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def kubeconfig(self) -> Path:
        return self.state_dir / "kubeconfig"

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.apiserver_port}"

    @property
    def node_server(self) -> str:
        """The API server as a node's processes reach it from their network namespace."""
        return f"https://{APISERVER_ADVERTISE_ADDRESS}:{self.apiserver_port}"

    # --- lifecycle --------------------------------------------------------------
    def start(self) -> float:
        """Start everything; return seconds until ready. Stops what started on failure."""
        binaries = {
            name: tools.require_binary(name)
            for name in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")
        }
        began = time.monotonic()
        if self.apiserver_port is None:
            self.apiserver_port = free_port()
        else:
            require_free_port(
                self.apiserver_port,
                "127.0.0.1",
                what="kube-apiserver",
                hint="stop whatever holds it, or choose another with --apiserver-port",
            )
        for directory in (self.pki_dir, self.log_dir):
            directory.mkdir(parents=True, exist_ok=True)
        try:
            self._start_all(binaries)
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - began
        self._save_state()
        return self.started_in

    def _start_all(self, binaries: dict[str, Path]) -> None:
        ca = pki.CertificateAuthority(self.pki_dir)
        serving = ca.issue(
            "apiserver",
            "kube-apiserver",
            server=True,
            dns_names=(
                "localhost",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                f"kubernetes.default.svc.{CLUSTER_DOMAIN}",
            ),
            ip_addresses=("127.0.0.1", KUBERNETES_SERVICE_IP, APISERVER_ADVERTISE_ADDRESS),
        )
        admin = ca.issue("admin", "videojob-admin", organization="system:masters", client=True)
        apiserver_kubelet_client = ca.issue(
            "apiserver-kubelet-client", "kube-apiserver-kubelet-client", organization="system:masters", client=True
        )
        controller_manager = ca.issue("controller-manager", "system:kube-controller-manager", client=True)
        scheduler = ca.issue("scheduler", "system:kube-scheduler", client=True)
        service_accounts = pki.service_account_keys(self.pki_dir)
        # The aggregation layer (metrics APIs for autoscaling) authenticates through a front proxy.
        front_proxy_ca = pki.CertificateAuthority(
            self.pki_dir, stem="front-proxy-ca", common_name="videojob-front-proxy-ca"
        )
        front_proxy_client = front_proxy_ca.issue("front-proxy-client", "front-proxy-client", client=True)

        etcd_port, etcd_peer_port = free_port(), free_port()
        etcd_url = f"http://127.0.0.1:{etcd_port}"
        etcd = self._component(
            "etcd",
            [
                str(binaries["etcd"]),
                "--name=videojob",
                f"--data-dir={self.state_dir / 'etcd'}",
                f"--listen-client-urls={etcd_url}",
                f"--advertise-client-urls={etcd_url}",
                f"--listen-peer-urls=http://127.0.0.1:{etcd_peer_port}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{etcd_peer_port}",
                f"--initial-cluster=videojob=http://127.0.0.1:{etcd_peer_port}",
                "--unsafe-no-fsync",  # a throwaway cluster: durability is not worth the disk waits
                "--log-level=warn",
            ],
        )
        etcd.wait_ready(lambda: https_ok(f"{etcd_url}/health"), START_TIMEOUT)

        apiserver = self._component(
            "kube-apiserver",
            [
                str(binaries["kube-apiserver"]),
                f"--etcd-servers={etcd_url}",
                "--bind-address=127.0.0.1",
                # Where the `kubernetes` Service sends Pods (and nodes): not loopback, which is each namespace's own.
                f"--advertise-address={APISERVER_ADVERTISE_ADDRESS}",
                f"--secure-port={self.apiserver_port}",
                f"--tls-cert-file={serving.cert}",
                f"--tls-private-key-file={serving.key}",
                f"--client-ca-file={ca.pair.cert}",
                f"--kubelet-client-certificate={apiserver_kubelet_client.cert}",
                f"--kubelet-client-key={apiserver_kubelet_client.key}",
                f"--kubelet-certificate-authority={ca.pair.cert}",
                # The local node's name resolves nowhere: reach kubelets by IP, never through DNS.
                "--kubelet-preferred-address-types=InternalIP,Hostname",
                f"--service-account-key-file={service_accounts.cert}",
                f"--service-account-signing-key-file={service_accounts.key}",
                f"--service-account-issuer=https://kubernetes.default.svc.{CLUSTER_DOMAIN}",
                f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
                f"--requestheader-client-ca-file={front_proxy_ca.pair.cert}",
                "--requestheader-allowed-names=front-proxy-client",
                "--requestheader-username-headers=X-Remote-User",
                "--requestheader-group-headers=X-Remote-Group",
                "--requestheader-extra-headers-prefix=X-Remote-Extra-",
                f"--proxy-client-cert-file={front_proxy_client.cert}",
                f"--proxy-client-key-file={front_proxy_client.key}",
                "--authorization-mode=Node,RBAC",
                "--allow-privileged=true",
                "--profiling=false",
                f"--cert-dir={self.pki_dir}",
            ],
        )
        admin_tls = ssl.create_default_context(cafile=str(ca.pair.cert))
        admin_tls.load_cert_chain(str(admin.cert), str(admin.key))
        apiserver.wait_ready(lambda: https_ok(f"{self.server}/readyz", context=admin_tls), START_TIMEOUT)

        _kubeconfig(self.kubeconfig, self.server, ca.pair.cert, admin, "videojob-admin")
        controller_manager_config = _kubeconfig(
            self.state_dir / "controller-manager.kubeconfig",
            self.server,
            ca.pair.cert,
            controller_manager,
            "system:kube-controller-manager",
        )
        scheduler_config = _kubeconfig(
            self.state_dir / "scheduler.kubeconfig", self.server, ca.pair.cert, scheduler, "system:kube-scheduler"
        )

        controller_manager_port = free_port()
        manager = self._component(
            "kube-controller-manager",
            [
                str(binaries["kube-controller-manager"]),
                *self._delegated_auth(controller_manager_config),
                "--bind-address=127.0.0.1",
                f"--secure-port={controller_manager_port}",
                f"--service-account-private-key-file={service_accounts.key}",
                f"--root-ca-file={ca.pair.cert}",
                f"--cluster-signing-cert-file={ca.pair.cert}",
                f"--cluster-signing-key-file={ca.pair.key}",
                f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
                "--use-service-account-credentials=true",
                "--leader-elect=false",
                "--profiling=false",
            ],
        )
        scheduler_port = free_port()
        scheduler_component = self._component(
            "kube-scheduler",
            [
                str(binaries["kube-scheduler"]),
                *self._delegated_auth(scheduler_config),
                "--bind-address=127.0.0.1",
                f"--secure-port={scheduler_port}",
                "--leader-elect=false",
                "--profiling=false",
            ],
        )
        manager.wait_ready(
            lambda: https_ok(f"https://127.0.0.1:{controller_manager_port}/healthz", context=insecure_tls()),
            START_TIMEOUT,
        )
        scheduler_component.wait_ready(
            lambda: https_ok(f"https://127.0.0.1:{scheduler_port}/healthz", context=insecure_tls()), START_TIMEOUT
        )
        # The controllers are really working once they have done their first job.
        manager.wait_ready(
            lambda: self.kubectl("get", "serviceaccount", "default", "-n", "default", check=False).returncode == 0,
            START_TIMEOUT,
            poll=0.25,
        )

    @staticmethod
    def _delegated_auth(kubeconfig: Path) -> list[str]:
        return [
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
        ]

    def _component(self, name: str, argv: list[str]) -> Component:
        component = Component.launch(name, argv, self.log_dir, tie_to_parent=self.tie_to_parent)
        self.components.append(component)
        return component

    def restart_apiserver(self, *, with_etcd: bool = True) -> float:
        """Stop the API server (and etcd), start them again; return seconds until the API server is ready.

        The same processes come back as an upgrade or a crash loop would bring them: same ports,
        same etcd data dir, same certificates and keys, so every client keeps its credentials and
        must only reconnect (the chaos tests prove that the operator does so by itself).
        """
        began = time.monotonic()
        by_name = {component.name: component for component in self.components}
        apiserver, etcd = by_name["kube-apiserver"], by_name["etcd"]
        apiserver.stop()
        if with_etcd:
            etcd.stop()
            etcd.start()
            etcd_url = next(arg.split("=", 1)[1] for arg in etcd.argv if arg.startswith("--listen-client-urls="))
            etcd.wait_ready(lambda: https_ok(f"{etcd_url}/health"), START_TIMEOUT)
        apiserver.start()
        admin_tls = ssl.create_default_context(cafile=str(self.pki_dir / "ca.crt"))
        admin_tls.load_cert_chain(str(self.pki_dir / "admin.crt"), str(self.pki_dir / "admin.key"))
        apiserver.wait_ready(lambda: https_ok(f"{self.server}/readyz", context=admin_tls), START_TIMEOUT)
        self._save_state()  # `hack/cluster status` finds the new pids
        return time.monotonic() - began

    def stop(self) -> None:
        """Stop in reverse order of start; safe to call twice."""
        for component in reversed(self.components):
            component.stop()
        self.components.clear()
        self._record(self.state_dir).stop()

    # --- state for the CLI (components outlive `hack/cluster up`) ----------------
    @staticmethod
    def _record(state_dir: Path) -> ProcessRecord:
        return ProcessRecord(state_dir / STATE_FILE)

    def _save_state(self) -> None:
        self._record(self.state_dir).write(
            {component.name: component.started_pid for component in self.components},
            server=self.server,
            kubeconfig=str(self.kubeconfig),
            started_in=self.started_in,
        )

    @classmethod
    def attach(cls, state_dir: Path) -> ControlPlane:
        """The control plane an earlier `hack/cluster up` started here (to add a node to it)."""
        saved = cls._record(state_dir).read()
        if saved is None:
            raise StartError(f"no control plane is running from {state_dir}; run `hack/cluster up` first")
        return cls(state_dir, apiserver_port=int(saved["server"].rsplit(":", 1)[1]), tie_to_parent=False)

    @classmethod
    def status(cls, state_dir: Path) -> dict[str, bool] | None:
        saved = cls._record(state_dir).read()
        return None if saved is None else saved["running"]

    @classmethod
    def stop_saved(cls, state_dir: Path) -> bool:
        return cls._record(state_dir).stop() is not None

    # --- clients ----------------------------------------------------------------
    def kubectl(
        self, *args: str, check: bool = True, input: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess:
        completed = subprocess.run(
            [str(tools.require_binary("kubectl")), f"--kubeconfig={self.kubeconfig}", *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and completed.returncode != 0:
            raise subprocess.CalledProcessError(
                completed.returncode, completed.args, completed.stdout, completed.stderr
            )
        return completed

    def api_client(self):
        from kubernetes import config  # only the tests and the CLI need the client

        return config.new_client_from_config(config_file=str(self.kubeconfig))

    def remove_state(self) -> None:
        shutil.rmtree(self.state_dir, ignore_errors=True)


__all__ = ["ControlPlane", "StartError"]
