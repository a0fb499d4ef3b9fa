"""What a local node changes on the host, and how to take it all back.

A node owns one *slot*: containerd's image store in the cache, a bridge ``vjbr<N>`` with the subnet 10.244.<N>.0/24, a
firewall chain ``VJ-vjbr<N>`` that lets Pods reach only the host ports a test
opened, and a cgroup subtree ``/videojob-<N>`` for its Pods. A record of each slot
in ``/run/videojob/nodes/`` names the processes and state directory that own it,
so that a later start can clean up after a node whose owner crashed.

Cleanup works without the node's processes: it kills whatever runs in the slot's
cgroups or was started for its containerd socket, unmounts everything under its
state directory, removes the cgroups, the firewall chain and the bridge.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from videojob_devenv import tools
from videojob_devenv.processes import pid_alive

REGISTRY = Path("/run/videojob/nodes")
SOCKETS = Path("/run/videojob/sockets")
CGROUP_V1 = Path("/sys/fs/cgroup")  # the v1 hierarchies are mounted below it
SLOTS = range(0, 32)
MNT_DETACH = 2


class HostError(RuntimeError):
    """Something on the host is in the way; the message says what to remove."""


@dataclasses.dataclass(frozen=True)
class Slot:
    index: int

    @property
    def bridge(self) -> str:
        return f"vjbr{self.index}"

    @property
    def chain(self) -> str:
        return f"VJ-{self.bridge}"

    @property
    def subnet(self) -> str:
        return f"10.244.{self.index}.0/24"

    @property
    def gateway(self) -> str:
        return f"10.244.{self.index}.1"

    @property
    def cgroup_root(self) -> str:
        return f"/videojob-{self.index}"

    @property
    def record(self) -> Path:
        return REGISTRY / f"{self.bridge}.json"

    @property
    def kubelet_root(self) -> Path:
        """The kubelet's --root-dir. Its unix sockets (pod-resources, device plugins) live under
        it, and a socket path may not exceed 108 bytes: a test's temporary directory can."""
        return tools.cache_root() / "node" / f"slot-{self.index}" / "kubelet"

    @property
    def image_store(self) -> Path:
        """containerd's root (content, snapshots), kept between runs: an imported image stays imported."""
        return tools.cache_root() / "node" / f"slot-{self.index}" / "containerd"


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    completed = subprocess.run(argv, capture_output=True, text=True)
    if check and completed.returncode != 0:
        raise HostError(f"`{' '.join(argv)}` failed: {completed.stderr.strip() or completed.stdout.strip()}")
    return completed


def _link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


# --- slots -------------------------------------------------------------------
def claim_slot(state_dir: Path) -> Slot:
    """The first slot nobody holds, after cleaning up those whose owner died."""
    REGISTRY.mkdir(parents=True, exist_ok=True)
    with (REGISTRY / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test sessions starting at once get different slots
        return _claim_locked(state_dir)


def _claim_locked(state_dir: Path) -> Slot:
    for slot in map(Slot, SLOTS):
        if slot.record.exists():
            record = json.loads(slot.record.read_text())
            if any(pid_alive(pid) for pid in record.get("pids", {}).values()):
                continue
            release(slot, Path(record["state_dir"]))
        elif _link_exists(slot.bridge):
            continue  # someone else's bridge by that name: leave it alone
        slot.record.write_text(json.dumps({"state_dir": str(state_dir), "pids": {"owner": os.getpid()}}))
        return slot
    raise HostError(f"all {len(SLOTS)} node slots are held; list them in {REGISTRY} and stop those nodes")


def record_pids(slot: Slot, state_dir: Path, pids: dict[str, int]) -> None:
    slot.record.write_text(json.dumps({"state_dir": str(state_dir), "pids": pids}, indent=2))


# --- bridge and firewall -------------------------------------------------------
def create_network(slot: Slot) -> None:
    """The bridge with the gateway address, up, and a firewall that admits nothing yet."""
    if not _link_exists(slot.bridge):
        _run("ip", "link", "add", slot.bridge, "type", "bridge")
    # Pods must not reach the host's IPv6 listeners through the bridge's link-local address.
    ipv6 = Path(f"/proc/sys/net/ipv6/conf/{slot.bridge}/disable_ipv6")
    if ipv6.exists():  # absent when the kernel has IPv6 off altogether
        ipv6.write_text("1")
    _run("ip", "addr", "replace", f"{slot.gateway}/24", "dev", slot.bridge)
    _run("ip", "link", "set", slot.bridge, "up")
    _remove_firewall(slot)
    _run("iptables", "-w", "-N", slot.chain)
    _run("iptables", "-w", "-A", slot.chain, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT")
    _run("iptables", "-w", "-A", slot.chain, "-j", "DROP")
    _run("iptables", "-w", "-I", "INPUT", "-i", slot.bridge, "-j", slot.chain)
    # Even if the host forwards packets, nothing from the Pods leaves through another interface.
    _run("iptables", "-w", "-I", "FORWARD", "-i", slot.bridge, "!", "-o", slot.bridge, "-j", "DROP")


def allow_tcp_port(slot: Slot, port: int) -> None:
    """Let Pods reach a host service listening on the gateway address at ``port`` (idempotent)."""
    rule = ["-d", slot.gateway, "-p", "tcp", "--dport", str(port), "-j", "ACCEPT"]
    if _run("iptables", "-w", "-C", slot.chain, *rule, check=False).returncode != 0:
        _run("iptables", "-w", "-I", slot.chain, "1", *rule)


def _remove_firewall(slot: Slot) -> None:
    while _run("iptables", "-w", "-D", "INPUT", "-i", slot.bridge, "-j", slot.chain, check=False).returncode == 0:
        pass
    while (
        _run(
            "iptables", "-w", "-D", "FORWARD", "-i", slot.bridge, "!", "-o", slot.bridge, "-j", "DROP", check=False
        ).returncode
        == 0
    ):
        pass
    _run("iptables", "-w", "-F", slot.chain, check=False)
    _run("iptables", "-w", "-X", slot.chain, check=False)


# --- cgroups -----------------------------------------------------------------
def _hierarchies() -> list[Path]:
    if (CGROUP_V1 / "cgroup.controllers").exists():
        return [CGROUP_V1]  # cgroups v2: one unified hierarchy (not exercised on the v1 machines we test on)
    return [path for path in CGROUP_V1.iterdir() if path.is_dir() and (path / "cgroup.procs").exists()]


def create_cgroup_root(slot: Slot) -> None:
    """The kubelet wants its --cgroup-root to exist in every hierarchy."""
    for hierarchy in _hierarchies():
        (hierarchy / slot.cgroup_root.lstrip("/")).mkdir(exist_ok=True)


def _cgroup_pids(slot: Slot) -> set[int]:
    pids: set[int] = set()
    for hierarchy in _hierarchies():
        root = hierarchy / slot.cgroup_root.lstrip("/")
        if root.exists():
            for procs in root.rglob("cgroup.procs"):
                with contextlib.suppress(OSError):  # the cgroup went while we read it
                    pids.update(int(line) for line in procs.read_text().split())
    return pids


def _remove_cgroups(slot: Slot) -> None:
    for hierarchy in _hierarchies():
        root = hierarchy / slot.cgroup_root.lstrip("/")
        if not root.exists():
            continue
        for directory in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):  # still busy: the next `down` tries again
                directory.rmdir()
        with contextlib.suppress(OSError):
            root.rmdir()


# --- processes and mounts ------------------------------------------------------
def _runtime_processes(socket: Path) -> set[int]:
    """containerd and its shims: programs named containerd* that name our socket on their command line."""
    found: set[int] = set()
    needle = str(socket).encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if argv and Path(argv[0].decode(errors="replace")).name.startswith("containerd") and needle in argv:
                found.add(int(entry.name))
    return found


def kill_everything(slot: Slot, socket: Path) -> None:
    """SIGKILL the Pods' processes and the runtime's shims, until none is left."""
    deadline = time.monotonic() + 15
    while True:
        victims = _cgroup_pids(slot) | _runtime_processes(socket)
        if not victims:
            return
        if time.monotonic() > deadline:
            raise HostError(
                f"processes {sorted(victims)} survive SIGKILL; kill them, then run `hack/cluster down` again"
            )
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)


def unmount_under(directory: Path) -> None:
    """Detach every mount below ``directory`` (overlay rootfs, shm, netns, kubelet volumes), deepest first."""
    import ctypes

    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    prefix = str(directory.resolve()) + "/"
    for _ in range(5):
        points = []
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            point = line.split()[4].encode().decode("unicode_escape")
            if point.startswith(prefix) or point == prefix[:-1]:
                points.append(point)
        if not points:
            return
        for point in sorted(points, key=len, reverse=True):
            libc.umount2(point.encode(), MNT_DETACH)
    raise HostError(f"mounts under {directory} remain after unmounting; see `grep {directory} /proc/self/mountinfo`")


def runtime_socket(state_dir: Path) -> Path:
    """containerd's socket: under /run, because a socket path may not exceed 104 bytes."""
    digest = hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:12]
    return SOCKETS / digest / "containerd.sock"


def release(slot: Slot, state_dir: Path) -> None:
    """Take back everything the slot's node did to the host; safe to call twice."""
    kill_everything(slot, runtime_socket(state_dir))
    unmount_under(state_dir)
    unmount_under(slot.kubelet_root)
    unmount_under(slot.image_store)
    _remove_cgroups(slot)
    _remove_firewall(slot)
    if _link_exists(slot.bridge):
        _run("ip", "link", "delete", slot.bridge)
    shutil.rmtree(runtime_socket(state_dir).parent, ignore_errors=True)
    shutil.rmtree(slot.kubelet_root, ignore_errors=True)  # pod volumes of this run; never reused
    slot.record.unlink(missing_ok=True)
