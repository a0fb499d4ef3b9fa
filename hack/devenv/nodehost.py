"""What a local node changes on the host, and how to take it all back.

A node owns one *slot*: containerd's image store in the cache, a network namespace
``vjns<N>`` joined to the host by the veth pair ``vjh<N>``/``vjn<N>`` with the Pod bridge
``vjbr<N>`` (10.244.<N>.0/24) inside it and firewall chains ``VJ-vjh<N>`` on the host
(``nodenet``), and a cgroup subtree ``/videojob-<N>`` for its Pods. A record of each slot
in ``/run/videojob/nodes/`` names the processes and state directory that own it,
so that a later start can clean up after a node whose owner crashed.

Cleanup works without the node's processes: it kills whatever runs in the slot's
cgroups or network namespace or was started for its containerd socket, unmounts
everything under its state directory, removes the cgroups, the network and the chains.
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
import time
from pathlib import Path

from videojob_devenv import nodenet, tools
from videojob_devenv.nodenet import HostError
from videojob_devenv.processes import pid_alive

REGISTRY = Path("/run/videojob/nodes")
SOCKETS = Path("/run/videojob/sockets")
CGROUP_V1 = Path("/sys/fs/cgroup")  # the v1 hierarchies are mounted below it
SLOTS = range(0, 32)
MNT_DETACH = 2


@dataclasses.dataclass(frozen=True)
class Slot:
    index: int

    @property
    def netns(self) -> str:
        return f"vjns{self.index}"

    @property
    def host_link(self) -> str:
        """The host's end of the veth pair; it holds ``gateway``."""
        return f"vjh{self.index}"

    @property
    def node_link(self) -> str:
        """The namespace's end of the veth pair; it holds ``node_ip``."""
        return f"vjn{self.index}"

    @property
    def bridge(self) -> str:
        return f"vjbr{self.index}"

    @property
    def chain(self) -> str:
        return f"VJ-{self.host_link}"

    @property
    def subnet(self) -> str:
        return f"10.244.{self.index}.0/24"

    @property
    def pod_gateway(self) -> str:
        """The bridge's address in the namespace: the Pods' next hop to Services and the host."""
        return f"10.244.{self.index}.1"

    @property
    def gateway(self) -> str:
        """The host's address on the veth: host servers that Pods may reach listen here."""
        return f"10.243.{self.index}.1"

    @property
    def node_ip(self) -> str:
        """The node's InternalIP: the kubelet and kube-proxy serve here, the API server calls here."""
        return f"10.243.{self.index}.2"

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
        elif any(map(_link_exists, (slot.host_link, slot.bridge))) or nodenet.netns_path(slot).exists():
            continue  # someone else's link or namespace by that name: leave it alone
        slot.record.write_text(json.dumps({"state_dir": str(state_dir), "pids": {"owner": os.getpid()}}))
        return slot
    raise HostError(f"all {len(SLOTS)} node slots are held; list them in {REGISTRY} and stop those nodes")


def record_pids(slot: Slot, state_dir: Path, pids: dict[str, int]) -> None:
    slot.record.write_text(json.dumps({"state_dir": str(state_dir), "pids": pids}, indent=2))


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
    """SIGKILL the Pods' processes, the runtime's shims and all else in the namespace, until none is left."""
    deadline = time.monotonic() + 15
    while True:
        victims = _cgroup_pids(slot) | _runtime_processes(socket) | nodenet.processes_in(slot)
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
    nodenet.remove(slot)
    shutil.rmtree(runtime_socket(state_dir).parent, ignore_errors=True)
    shutil.rmtree(slot.kubelet_root, ignore_errors=True)  # pod volumes of this run; never reused
    slot.record.unlink(missing_ok=True)
