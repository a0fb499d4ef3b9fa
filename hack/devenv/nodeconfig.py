"""The configuration files of the local node, as pure functions of its paths and ports.

Each function returns text; ``node`` writes it under the node's state directory.
Every choice that differs from a stock install says why: this machine runs
cgroups v1 without systemd, as root without CAP_SYS_RESOURCE, with no registry.
"""

from __future__ import annotations

import json
from pathlib import Path

CNI_BIN_DIR = Path("/usr/lib/cni")  # Debian's containernetworking-plugins
RUNC = Path("/usr/sbin/runc")
# Snapshotters Debian builds in but this node never uses; disabled to keep containerd's log quiet.
UNUSED_PLUGINS = (
    "io.containerd.snapshotter.v1.aufs",
    "io.containerd.snapshotter.v1.btrfs",
    "io.containerd.snapshotter.v1.devmapper",
    "io.containerd.snapshotter.v1.zfs",
    "io.containerd.tracing.processor.v1.otlp",
    "io.containerd.internal.v1.tracing",
)


def _toml_string(value: str | Path) -> str:
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def containerd_config(*, root: Path, state: Path, socket: Path, sandbox_image: str, cni_conf_dir: Path) -> str:
    cri = '[plugins."io.containerd.grpc.v1.cri"]'
    return "\n".join(
        [
            "version = 2",
            f"root = {_toml_string(root)}",
            f"state = {_toml_string(state)}",
            f"disabled_plugins = {json.dumps(list(UNUSED_PLUGINS))}",
            "",
            "[grpc]",
            f"  address = {_toml_string(socket)}",
            "[ttrpc]",
            f"  address = {_toml_string(socket.with_name(socket.name + '.ttrpc'))}",
            "[debug]",
            '  level = "info"',
            "",
            '[plugins."io.containerd.internal.v1.opt"]',
            f"  path = {_toml_string(root / 'opt')}",
            "",
            cri,
            f"  sandbox_image = {_toml_string(sandbox_image)}",
            # Without it every sandbox fails with "can't get final child's PID from pipe":
            # runc may not lower oom_score_adj below the caller's without CAP_SYS_RESOURCE.
            "  restrict_oom_score_adj = true",
            # Pod network namespaces live (and are cleaned up) under our own state directory.
            "  netns_mounts_under_state_dir = true",
            "  disable_apparmor = true",
            '  stream_server_address = "127.0.0.1"',
            '  stream_server_port = "0"',
            f"{cri[:-1]}.containerd]",
            '  snapshotter = "overlayfs"',
            '  default_runtime_name = "runc"',
            f"{cri[:-1]}.containerd.runtimes.runc]",
            '  runtime_type = "io.containerd.runc.v2"',
            f"{cri[:-1]}.containerd.runtimes.runc.options]",
            f"  BinaryName = {_toml_string(RUNC)}",
            "  SystemdCgroup = false  # no systemd here: the kubelet and runc share the cgroupfs driver",
            f"{cri[:-1]}.cni]",
            f"  bin_dir = {_toml_string(CNI_BIN_DIR)}",
            f"  conf_dir = {_toml_string(cni_conf_dir)}",
            "  max_conf_num = 1",
            "",
        ]
    )


def cni_conflist(
    *, network: str, bridge: str, subnet: str, gateway: str, routes: tuple[str, ...], ipam_dir: Path
) -> str:
    """A bridge with host-local addresses and no default route: Pods reach the bridge's own
    subnet and, through the bridge's address, ``routes`` (the Service range, the host's gateway)."""
    return json.dumps(
        {
            "cniVersion": "1.0.0",
            "name": network,
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": bridge,
                    "isGateway": True,  # the host owns the gateway address ...
                    "isDefaultGateway": False,  # ... but Pods get no default route through it
                    "ipMasq": False,
                    # A Pod may reach itself through its Service: the packet goes back out the port it came in.
                    "hairpinMode": True,
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{"subnet": subnet, "gateway": gateway}]],
                        "routes": [{"dst": route, "gw": gateway} for route in routes],
                        "dataDir": str(ipam_dir),
                    },
                }
            ],
        },
        indent=2,
    )


def kubelet_config(
    *,
    address: str,
    port: int,
    healthz_port: int,
    cluster_dns: str,
    cluster_domain: str,
    serving_cert: Path,
    serving_key: Path,
    client_ca: Path,
    runtime_socket: Path,
    cgroup_root: str,
    pod_logs_dir: Path,
) -> str:
    endpoint = f"unix://{runtime_socket}"
    return json.dumps(
        {
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            "address": address,  # the API server reaches the kubelet here (logs, exec); the firewall keeps Pods out
            "port": port,
            "readOnlyPort": 0,
            "healthzBindAddress": address,  # the namespace's loopback is out of the host's reach
            "healthzPort": healthz_port,
            "tlsCertFile": str(serving_cert),
            "tlsPrivateKeyFile": str(serving_key),
            "authentication": {
                "anonymous": {"enabled": False},
                "webhook": {"enabled": True},
                "x509": {"clientCAFile": str(client_ca)},
            },
            "authorization": {"mode": "Webhook"},
            "containerRuntimeEndpoint": endpoint,
            "imageServiceEndpoint": endpoint,
            # cgroups v1 and no systemd: kubelet 1.34 refuses v1 unless told, and must use cgroupfs like runc.
            "failCgroupV1": False,
            "cgroupDriver": "cgroupfs",
            # A cgroup subtree of our own, so that two nodes on one machine never share kubepods.
            "cgroupRoot": cgroup_root,
            "cgroupsPerQOS": True,
            "enforceNodeAllocatable": ["pods"],
            "failSwapOn": False,
            "podLogsDir": str(pod_logs_dir),
            "clusterDNS": [cluster_dns],
            "clusterDomain": cluster_domain,
            # No upstream resolver: Pods ask cluster DNS only (dnsPolicy Default gets an empty resolv.conf).
            "resolvConf": "",
            # No registry can give back an image the garbage collector removed: never collect.
            "imageGCHighThresholdPercent": 100,
            "imageGCLowThresholdPercent": 99,
            # A shared developer machine: evict only when it is truly out of room.
            "evictionHard": {
                "memory.available": "100Mi",
                "nodefs.available": "1%",
                "imagefs.available": "1%",
                "nodefs.inodesFree": "1%",
            },
            # How often Pod volumes are measured (default 1m): an emptyDir past its sizeLimit is evicted
            # within seconds, not a minute later (the scratch-full chaos test waits on it).
            "volumeStatsAggPeriod": "5s",
            "serializeImagePulls": False,
            "shutdownGracePeriod": "0s",
            "logging": {"format": "text", "verbosity": 1},
        },
        indent=2,
    )
