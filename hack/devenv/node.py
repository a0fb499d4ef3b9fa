"""One real node for the local control plane: containerd, a kubelet and kube-proxy that run Pods.

The node registers as ``videojob-node`` with a client certificate from the control
plane's CA (the identity the Node authorizer expects), serves the kubelet API on its node
IP with a certificate from the same CA (so ``kubectl logs``, exec and port-forward work via
the API server), and runs Pods with containerd, runc and a CNI bridge, all in the slot's
network namespace (``nodenet``). kube-proxy makes Services work there and CoreDNS
(``clusterdns``, Pods of its own) answers ``cluster.local``. Images come from
``images`` (no registry): the node imports the archives into containerd's ``k8s.io``
namespace, whose store stays in the cache (per slot) so a warm start imports nothing.
Everything else lives under ``state_dir``; what the node does to the host
(network namespace, veth, firewall chains, cgroups, mounts) is taken back by ``nodehost.release``.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from videojob_devenv import clusterdns, images, kubeproxy, nodeconfig, nodehost, nodenet, pki, tools
from videojob_devenv.controlplane import (
    CLUSTER_DNS_IP,
    CLUSTER_DOMAIN,
    SERVICE_CLUSTER_IP_RANGE,
    ControlPlane,
    _kubeconfig,
)
from videojob_devenv.processes import Component, ProcessRecord, StartError, https_ok

NODE_NAME = "videojob-node"
STATE_FILE = "node.json"
START_TIMEOUT = 120.0
KUBELET_PORT = 10250  # the namespace is the node's own: the usual ports are free in it
KUBELET_HEALTHZ_PORT = 10248
CTR = "ctr"  # Debian's containerd package ships it
# The kubelet sets these host-wide at start; a shared developer machine gets its own values back.
KUBELET_SYSCTLS = ("vm/overcommit_memory", "kernel/panic", "kernel/panic_on_oops")


def _control_plane_authority(plane: ControlPlane) -> pki.CertificateAuthority:
    """The control plane's CA, read back from its files to issue the node's certificates."""
    try:
        return pki.CertificateAuthority.load(plane.pki_dir, issue_into=plane.pki_dir)
    except ValueError as error:
        raise StartError(f"{error}; run `hack/cluster down`, then up") from error


@dataclasses.dataclass
class Node:
    plane: ControlPlane
    state_dir: Path
    name: str = NODE_NAME
    tie_to_parent: bool = True
    slot: nodehost.Slot | None = None
    components: list[Component] = dataclasses.field(default_factory=list)
    started_in: float | None = None
    imported: set[str] = dataclasses.field(default_factory=set)

    # --- paths ------------------------------------------------------------------
    @property
    def socket(self) -> Path:
        return nodehost.runtime_socket(self.state_dir)

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def gateway(self) -> str:
        """The host's address that Pods reach (through their bridge): servers for Pods listen here."""
        assert self.slot is not None, "the node is not started"
        return self.slot.gateway

    @property
    def ip(self) -> str:
        """The node's InternalIP, in its network namespace: the kubelet and kube-proxy listen here."""
        assert self.slot is not None, "the node is not started"
        return self.slot.node_ip

    def open_port(self, port: int) -> None:
        """Let Pods reach a host server listening on ``gateway``:``port`` (the firewall drops the rest)."""
        assert self.slot is not None, "the node is not started"
        nodenet.allow_tcp_port(self.slot, port)

    # --- lifecycle ----------------------------------------------------------------
    def start(self) -> float:
        """Start containerd, the kubelet, kube-proxy and cluster DNS; return seconds until all are ready."""
        if os.geteuid() != 0:
            raise StartError("a node needs root (containerd, the kubelet, a bridge and cgroups); run it as root")
        kubelet = tools.require_binary("kubelet")
        proxy = tools.require_binary("kube-proxy")
        dns_image = clusterdns.image()
        for program in ("containerd", CTR, "runc", "iptables", "ip", "nsenter"):
            if shutil.which(program) is None:
                raise StartError(f"{program} is not installed; run hack/bootstrap (it installs hack/apt-packages.txt)")
        pause = images.pause_image()
        began = time.monotonic()
        self.stop_saved(self.state_dir)  # a node that crashed here before
        self.slot = nodehost.claim_slot(self.state_dir)
        try:
            self._start_all(kubelet, pause)
            self._start_services(proxy, dns_image)
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - began
        self._save_state()
        return self.started_in

    def _start_all(self, kubelet_binary: Path, pause: images.Image) -> None:
        slot = self.slot
        assert slot is not None
        for directory in (self.log_dir, self.socket.parent, self.state_dir / "cni" / "net.d"):
            directory.mkdir(parents=True, exist_ok=True)
        assert self.plane.apiserver_port is not None, "the control plane is not started"
        nodenet.create(slot, apiserver_port=self.plane.apiserver_port)
        nodehost.create_cgroup_root(slot)

        config = self.state_dir / "containerd.toml"
        config.write_text(
            nodeconfig.containerd_config(
                root=slot.image_store,
                state=self.state_dir / "containerd" / "state",
                socket=self.socket,
                sandbox_image=pause.ref,
                cni_conf_dir=self.state_dir / "cni" / "net.d",
            )
        )
        (self.state_dir / "cni" / "net.d" / "10-videojob.conflist").write_text(
            nodeconfig.cni_conflist(
                network=f"videojob-{slot.bridge}",
                bridge=slot.bridge,
                subnet=slot.subnet,
                gateway=slot.pod_gateway,
                routes=(SERVICE_CLUSTER_IP_RANGE, f"{slot.gateway}/32"),
                ipam_dir=self.state_dir / "cni" / "ipam",
            )
        )
        containerd = self._component("containerd", nodenet.in_netns(slot, ["containerd", f"--config={config}"]))
        nodehost.record_pids(slot, self.state_dir, {"containerd": containerd.started_pid})
        containerd.wait_ready(lambda: self.ctr("version", check=False).returncode == 0, START_TIMEOUT, poll=0.2)
        self._forget_earlier_runs()
        self.load(pause)

        ca = _control_plane_authority(self.plane)
        client = ca.issue("kubelet-client", f"system:node:{self.name}", organization="system:nodes", client=True)
        serving = ca.issue(
            "kubelet-serving", self.name, server=True, dns_names=(self.name,), ip_addresses=(slot.node_ip,)
        )
        kubeconfig = _kubeconfig(
            self.state_dir / "kubelet.kubeconfig",
            self.plane.node_server,
            ca.pair.cert,
            client,
            f"system:node:{self.name}",
        )
        kubelet_config = self.state_dir / "kubelet.yaml"
        kubelet_config.write_text(
            nodeconfig.kubelet_config(
                address=slot.node_ip,
                port=KUBELET_PORT,
                healthz_port=KUBELET_HEALTHZ_PORT,
                cluster_dns=CLUSTER_DNS_IP,
                cluster_domain=CLUSTER_DOMAIN,
                serving_cert=serving.cert,
                serving_key=serving.key,
                client_ca=ca.pair.cert,
                runtime_socket=self.socket,
                cgroup_root=slot.cgroup_root,
                pod_logs_dir=self.state_dir / "pod-logs",
            )
        )
        sysctls = {name: Path("/proc/sys", name).read_text() for name in KUBELET_SYSCTLS}
        kubelet = self._component(
            "kubelet",
            nodenet.in_netns(
                slot,
                [
                    str(kubelet_binary),
                    f"--config={kubelet_config}",
                    f"--kubeconfig={kubeconfig}",
                    f"--root-dir={slot.kubelet_root}",
                    f"--hostname-override={self.name}",
                    f"--node-ip={slot.node_ip}",
                ],
            ),
        )
        nodehost.record_pids(slot, self.state_dir, {c.name: c.started_pid for c in self.components})
        try:
            kubelet.wait_ready(lambda: https_ok(f"http://{slot.node_ip}:{KUBELET_HEALTHZ_PORT}/healthz"), START_TIMEOUT)
            kubelet.wait_ready(self.ready, START_TIMEOUT, poll=0.25)
        finally:  # the kubelet reads them only once, at start
            for name, value in sysctls.items():
                Path("/proc/sys", name).write_text(value)

    def _start_services(self, proxy_binary: Path, dns_image: images.Image) -> None:
        """kube-proxy, so that ClusterIPs lead somewhere, then CoreDNS, so that their names resolve."""
        slot = self.slot
        assert slot is not None
        ca = _control_plane_authority(self.plane)
        identity = ca.issue("kube-proxy-client", kubeproxy.IDENTITY, client=True)
        kubeconfig = _kubeconfig(
            self.state_dir / "kube-proxy.kubeconfig", self.plane.node_server, ca.pair.cert, identity, kubeproxy.IDENTITY
        )
        config = self.state_dir / "kube-proxy.yaml"
        config.write_text(
            kubeproxy.config(kubeconfig=kubeconfig, node_name=self.name, node_ip=slot.node_ip, cluster_cidr=slot.subnet)
        )
        proxy = self._component("kube-proxy", nodenet.in_netns(slot, [str(proxy_binary), f"--config={config}"]))
        nodehost.record_pids(slot, self.state_dir, {c.name: c.started_pid for c in self.components})
        proxy.wait_ready(lambda: https_ok(kubeproxy.healthz_url(slot.node_ip)), START_TIMEOUT, poll=0.2)
        self.load(dns_image)
        clusterdns.deploy(self.plane, dns_image.ref)

    def _component(self, name: str, argv: list[str]) -> Component:
        component = Component.launch(name, argv, self.log_dir, tie_to_parent=self.tie_to_parent)
        self.components.append(component)
        return component

    def restart_kubelet(self) -> float:
        """Stop the kubelet and start it again with the same config, certificates and root dir; return
        seconds until the node is Ready again. Running containers belong to containerd and keep running,
        as on a real node whose kubelet is upgraded or crashes."""
        slot = self.slot
        assert slot is not None, "the node is not started"
        began = time.monotonic()
        kubelet = next(component for component in self.components if component.name == "kubelet")
        kubelet.stop()
        sysctls = {name: Path("/proc/sys", name).read_text() for name in KUBELET_SYSCTLS}
        kubelet.start()
        nodehost.record_pids(slot, self.state_dir, {c.name: c.started_pid for c in self.components})
        try:
            kubelet.wait_ready(lambda: https_ok(f"http://{slot.node_ip}:{KUBELET_HEALTHZ_PORT}/healthz"), START_TIMEOUT)
            kubelet.wait_ready(self.ready, START_TIMEOUT, poll=0.25)
        finally:  # as at start: the kubelet sets them host-wide once
            for name, value in sysctls.items():
                Path("/proc/sys", name).write_text(value)
        self._save_state()
        return time.monotonic() - began

    def ready(self) -> bool:
        jsonpath = '{.status.conditions[?(@.type=="Ready")].status}'
        result = self.plane.kubectl("get", "node", self.name, "-o", f"jsonpath={jsonpath}", check=False)
        return result.returncode == 0 and result.stdout.strip() == "True"

    def stop(self) -> None:
        """Stop kube-proxy, the kubelet, containerd and every container; give back the network, cgroups and mounts."""
        for component in reversed(self.components):
            component.stop()
        self.components.clear()
        if self.slot is not None:
            nodehost.release(self.slot, self.state_dir)
            self.slot = None
        self._record(self.state_dir).path.unlink(missing_ok=True)

    # --- images ---------------------------------------------------------------------
    def ctr(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        completed = subprocess.run(
            [CTR, f"--address={self.socket}", "--namespace=k8s.io", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and completed.returncode != 0:
            raise StartError(f"ctr {' '.join(args)} failed: {completed.stderr.strip()}")
        return completed

    def _forget_earlier_runs(self) -> None:
        """The image store outlives a node: drop the containers of earlier runs and superseded images."""
        containers = self.ctr("containers", "list", "--quiet").stdout.split()
        if containers:
            self.ctr("containers", "delete", *containers, check=False)
        self._drop_images(lambda ref: not images.archive_path(ref).exists())

    def _listed_images(self) -> dict[str, str]:
        """Every image reference in the store and the manifest digest it points at."""
        lines = self.ctr("images", "list").stdout.splitlines()[1:]
        return {fields[0]: fields[2] for fields in map(str.split, lines) if len(fields) > 2}

    def _drop_images(self, superseded: Callable[[str], bool]) -> None:
        """Delete our images for which ``superseded(ref)`` holds, with the ID references CRI made for them.

        The CRI plugin names every image a second time by its ID (``sha256:...``); deleting only the
        ``localhost/`` name kept the layers alive, and a slot's store grew by every renderer build it
        had imported (13 GiB in one slot). --sync waits for containerd's garbage collection.
        """
        listed = self._listed_images()
        kept = {digest for ref, digest in listed.items() if ref.startswith("localhost/") and not superseded(ref)}
        doomed = [
            ref
            for ref, digest in listed.items()
            if digest not in kept and (ref.startswith("sha256:") or (ref.startswith("localhost/") and superseded(ref)))
        ]
        if doomed:
            self.ctr("images", "delete", "--sync", *doomed, check=False)

    def load(self, image: images.Image) -> float:
        """Import an image archive into the node (once), dropping its pruned builds; return the seconds it took."""
        if image.ref in self.imported:
            return 0.0
        began = time.monotonic()
        if image.ref not in self.ctr("images", "list", "--quiet").stdout.split():
            self.ctr("images", "import", str(image.archive))
        repository = image.name
        self._drop_images(
            lambda ref: (
                ref != image.ref and ref.rsplit(":", 1)[0] == repository and not images.archive_path(ref).exists()
            )
        )
        self.imported.add(image.ref)
        return time.monotonic() - began

    # --- state for the CLI (the node outlives `hack/cluster up`) ---------------------------
    @staticmethod
    def _record(state_dir: Path) -> ProcessRecord:
        return ProcessRecord(state_dir / STATE_FILE)

    def _save_state(self) -> None:
        assert self.slot is not None
        self._record(self.state_dir).write(
            {c.name: c.started_pid for c in self.components},
            name=self.name,
            slot=self.slot.index,
            gateway=self.slot.gateway,
            node_ip=self.slot.node_ip,
            netns=self.slot.netns,
            bridge=self.slot.bridge,
            started_in=self.started_in,
        )

    @staticmethod
    def status(state_dir: Path) -> dict | None:
        return Node._record(state_dir).read()

    @staticmethod
    def stop_saved(state_dir: Path) -> bool:
        """Stop a node that an earlier command started here, and take back what it did to the host."""

        def release(saved: dict) -> None:
            nodehost.release(nodehost.Slot(saved["slot"]), state_dir)

        return Node._record(state_dir).stop(then=release) is not None


__all__ = ["NODE_NAME", "Node", "StartError"]
