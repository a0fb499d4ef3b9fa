"""The network of one node slot: a network namespace of its own, joined to the host by a veth pair.

containerd, the kubelet, kube-proxy and every Pod live in the slot's namespace ``vjns<N>``,
so kube-proxy's iptables chains, the Pod bridge and the conntrack table of one local
cluster never meet another's. The addresses (N is the slot)::

    host  vjh<N> 10.243.N.1/30  <-- veth -->  vjn<N> 10.243.N.2/30  netns vjns<N>
          (node.gateway: the host servers Pods may reach)   (the node IP: kubelet, kube-proxy)
                                                             vjbr<N> 10.244.N.1/24  the Pods' bridge

Pods get routes to the Service range and to the gateway only, so nothing else is reachable.
On the host, one filter chain admits from the veth only the ports a test opened on the
gateway and the API server; one nat chain turns the API server's advertised address
(``controlplane.APISERVER_ADVERTISE_ADDRESS``, the ``kubernetes`` Service's endpoint) into the
API server's loopback listener. The host reaches Pod IPs through a route via the node IP.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from videojob_devenv.controlplane import APISERVER_ADVERTISE_ADDRESS

if TYPE_CHECKING:
    from videojob_devenv.nodehost import Slot

NETNS_DIR = Path("/run/netns")  # where `ip netns` keeps its named namespaces


class HostError(RuntimeError):
    """Something on the host is in the way or a change to it failed; the message says what."""


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    completed = subprocess.run(argv, capture_output=True, text=True)
    if check and completed.returncode != 0:
        raise HostError(f"`{' '.join(argv)}` failed: {completed.stderr.strip() or completed.stdout.strip()}")
    return completed


def netns_path(slot: Slot) -> Path:
    return NETNS_DIR / slot.netns


def in_netns(slot: Slot, argv: list[str]) -> list[str]:
    """``argv`` run in the slot's network namespace, and only that (mounts and cgroups stay the host's,
    which containerd and the kubelet must share); nsenter execs, so the pid is the program's."""
    return ["nsenter", f"--net={netns_path(slot)}", "--", *argv]


def _in(slot: Slot, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return _run(*in_netns(slot, list(argv)), check=check)


def _link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


# --- creating ------------------------------------------------------------------
def create(slot: Slot, *, apiserver_port: int) -> None:
    """The namespace, the veth pair, routes both ways and the firewalls; Pods reach nothing yet
    but the API server (through the ``kubernetes`` Service, once kube-proxy runs)."""
    remove(slot)  # whatever an earlier node in this slot left
    _run("ip", "netns", "add", slot.netns)
    # IPv6 off before any link exists, so that no link-local address leads anywhere.
    for name in ("all", "default"):
        _in(slot, "sysctl", "-qw", f"net.ipv6.conf.{name}.disable_ipv6=1")
    _in(slot, "sysctl", "-qw", "net.ipv4.ip_forward=1")
    # Traffic between two Pods of the bridge must pass conntrack, or a reply to a Service's
    # client skips the un-DNAT (what kubeadm asks of every node).
    _in(slot, "sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=1")
    _in(slot, "ip", "link", "set", "lo", "up")

    _run("ip", "link", "add", slot.host_link, "type", "veth", "peer", "name", slot.node_link)
    _disable_ipv6(slot.host_link)
    _run("ip", "link", "set", slot.node_link, "netns", slot.netns)
    _run("ip", "addr", "add", f"{slot.gateway}/30", "dev", slot.host_link)
    _run("ip", "link", "set", slot.host_link, "up")
    _in(slot, "ip", "addr", "add", f"{slot.node_ip}/30", "dev", slot.node_link)
    _in(slot, "ip", "link", "set", slot.node_link, "up")
    _in(slot, "ip", "link", "add", slot.bridge, "type", "bridge")
    _in(slot, "ip", "addr", "add", f"{slot.pod_gateway}/24", "dev", slot.bridge)
    _in(slot, "ip", "link", "set", slot.bridge, "up")

    _in(slot, "ip", "route", "add", f"{APISERVER_ADVERTISE_ADDRESS}/32", "via", slot.gateway)
    _run("ip", "route", "add", slot.subnet, "via", slot.node_ip, "dev", slot.host_link)
    _netns_firewall(slot)
    _host_firewall(slot, APISERVER_ADVERTISE_ADDRESS, apiserver_port)


def _disable_ipv6(link: str) -> None:
    switch = Path(f"/proc/sys/net/ipv6/conf/{link}/disable_ipv6")
    if switch.exists():  # absent when the kernel has IPv6 off altogether
        switch.write_text("1")


def _netns_firewall(slot: Slot) -> None:
    """Pods reach no process of the node itself (kubelet, kube-proxy, containerd's stream server)."""
    rule = ["INPUT", "-i", slot.bridge]
    _in(slot, "iptables", "-w", "-A", *rule, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT")
    _in(slot, "iptables", "-w", "-A", *rule, "-j", "DROP")


def _host_firewall(slot: Slot, advertised: str, apiserver_port: int) -> None:
    api = ["-p", "tcp", "--dport", str(apiserver_port)]
    # The API server listens on loopback only; the veth is the one interface allowed to reach it that way.
    Path(f"/proc/sys/net/ipv4/conf/{slot.host_link}/route_localnet").write_text("1")
    _run("iptables", "-w", "-t", "nat", "-N", slot.chain)
    to_loopback = ["-j", "DNAT", "--to-destination", f"127.0.0.1:{apiserver_port}"]
    _run("iptables", "-w", "-t", "nat", "-A", slot.chain, "-d", advertised, *api, *to_loopback)
    _run("iptables", "-w", "-t", "nat", "-I", "PREROUTING", "-i", slot.host_link, "-j", slot.chain)

    _run("iptables", "-w", "-N", slot.chain)
    _run("iptables", "-w", "-A", slot.chain, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT")
    sent_to_advertised = ["-m", "conntrack", "--ctstate", "DNAT", "--ctorigdst", advertised]
    _run("iptables", "-w", "-A", slot.chain, "-d", "127.0.0.1", *api, *sent_to_advertised, "-j", "ACCEPT")
    _run("iptables", "-w", "-A", slot.chain, "-j", "DROP")
    _run("iptables", "-w", "-I", "INPUT", "-i", slot.host_link, "-j", slot.chain)
    # Even if the host forwards packets, nothing from the node leaves through another interface.
    _run("iptables", "-w", "-I", "FORWARD", "-i", slot.host_link, "-j", "DROP")


def allow_tcp_port(slot: Slot, port: int) -> None:
    """Let Pods reach a host service listening on the gateway address at ``port`` (idempotent)."""
    rule = ["-d", slot.gateway, "-p", "tcp", "--dport", str(port), "-j", "ACCEPT"]
    if _run("iptables", "-w", "-C", slot.chain, *rule, check=False).returncode != 0:
        _run("iptables", "-w", "-I", slot.chain, "1", *rule)


# --- what runs in it ------------------------------------------------------------
def processes_in(slot: Slot) -> set[int]:
    """Every process in the slot's namespace (a kube-proxy or Pod whose record was lost, too)."""
    path = netns_path(slot)
    if not path.exists():
        return set()
    inode = path.stat().st_ino
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if (entry / "ns" / "net").stat().st_ino == inode:
                    found.add(int(entry.name))
            except OSError:
                continue  # gone, or a kernel thread
    return found


# --- taking it back --------------------------------------------------------------
def _delete_repeatedly(*rule: str) -> None:
    while _run("iptables", "-w", *rule, check=False).returncode == 0:
        pass


def remove(slot: Slot) -> None:
    """Take back the namespace (its chains, bridge and Pods' links go with it), the veth, the
    host's route and chains; safe to call twice. Stop the namespace's processes first."""
    _delete_repeatedly("-t", "nat", "-D", "PREROUTING", "-i", slot.host_link, "-j", slot.chain)
    _delete_repeatedly("-D", "INPUT", "-i", slot.host_link, "-j", slot.chain)
    _delete_repeatedly("-D", "FORWARD", "-i", slot.host_link, "-j", "DROP")
    for table in ("nat", "filter"):
        _run("iptables", "-w", "-t", table, "-F", slot.chain, check=False)
        _run("iptables", "-w", "-t", table, "-X", slot.chain, check=False)
    if _link_exists(slot.host_link):
        _run("ip", "link", "delete", slot.host_link)  # its peer, and the route through it, go too
    if netns_path(slot).exists():
        _run("ip", "netns", "delete", slot.netns)
    _remove_host_bridge(slot)


def _remove_host_bridge(slot: Slot) -> None:
    """Nodes before the namespaces kept the bridge and its chain in the host's network."""
    legacy_chain = f"VJ-{slot.bridge}"
    _delete_repeatedly("-D", "INPUT", "-i", slot.bridge, "-j", legacy_chain)
    _delete_repeatedly("-D", "FORWARD", "-i", slot.bridge, "!", "-o", slot.bridge, "-j", "DROP")
    _run("iptables", "-w", "-F", legacy_chain, check=False)
    _run("iptables", "-w", "-X", legacy_chain, check=False)
    if _link_exists(slot.bridge):
        _run("ip", "link", "delete", slot.bridge)


def leftovers(slot: Slot) -> list[str]:
    """What of the slot's network is still on the host (empty once ``remove`` ran)."""
    found = [f"network namespace {slot.netns}"] if netns_path(slot).exists() else []
    found += [f"link {link}" for link in (slot.host_link, slot.bridge) if _link_exists(link)]
    for table in ("nat", "filter"):
        if _run("iptables", "-w", "-t", table, "-S", slot.chain, check=False).returncode == 0:
            found.append(f"iptables chain {slot.chain} ({table})")
    routes = _run("ip", "route", "show", slot.subnet, check=False).stdout.strip()
    if routes:
        found.append(f"route {routes}")
    return found
