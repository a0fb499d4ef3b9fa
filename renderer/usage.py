"""What one render cost the machine: CPU seconds and peak memory, for the termination message.

    meter = ResourceMeter.start()
    ...render...
    usage = usage.model_copy(update=meter.figures())

CPU is this process's and every child's it has waited for (scene workers, TeX, ffmpeg,
espeak), from ``getrusage``. Peak memory is what a memory limit is checked against:
in a container, the peak of the container's own cgroup (cgroup v2 ``memory.peak``,
v1 ``memory.max_usage_in_bytes``), which counts every process in it at once; elsewhere
(a laptop, a test) the cgroup holds other programs too, so the figure is the largest
resident size of this process or of one waited-for child (``ru_maxrss``), a lower bound
when scene workers run side by side.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass
from pathlib import Path

PROC_CGROUP = Path("/proc/self/cgroup")
PROC_MOUNTINFO = Path("/proc/self/mountinfo")
CGROUP_V2_PEAK = "memory.peak"
CGROUP_V1_PEAK = "memory.max_usage_in_bytes"


@dataclass(frozen=True)
class CgroupMount:
    """One cgroup hierarchy as this process sees it: which cgroup is mounted at which directory."""

    root: str  # the cgroup path shown at the mount point
    mount_point: Path
    version: int
    controllers: frozenset[str]


def cgroup_mounts(mountinfo: str) -> list[CgroupMount]:
    """The cgroup and cgroup2 mounts in a ``/proc/self/mountinfo`` text."""
    mounts = []
    for line in mountinfo.splitlines():
        fields = line.split()
        if " - " not in line or len(fields) < 5:
            continue
        fs_type, *rest = line.split(" - ", 1)[1].split()
        if fs_type == "cgroup2":
            mounts.append(CgroupMount(fields[3], Path(fields[4]), 2, frozenset()))
        elif fs_type == "cgroup" and len(rest) >= 2:
            mounts.append(CgroupMount(fields[3], Path(fields[4]), 1, frozenset(rest[1].split(","))))
    return mounts


def own_cgroups(proc_cgroup: str) -> dict[str, str]:
    """``/proc/self/cgroup`` as controller -> path; the unified (v2) hierarchy is the key ``""``."""
    paths = {}
    for line in proc_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(",") if parts[1] else [""]:
                paths[controller] = parts[2]
    return paths


def container_peak_file(proc_cgroup: str, mountinfo: str) -> Path | None:
    """The peak-memory file of this process's cgroup, only when that cgroup is mounted as its own root.

    A container runtime mounts the container's cgroup at /sys/fs/cgroup (the mount's root is
    the process's own cgroup path), so the figure is the container's and no one else's.
    """
    paths = own_cgroups(proc_cgroup)
    for mount in cgroup_mounts(mountinfo):
        if mount.version == 2 and paths.get("") == mount.root:
            return mount.mount_point / CGROUP_V2_PEAK
        if mount.version == 1 and "memory" in mount.controllers and paths.get("memory") == mount.root:
            return mount.mount_point / CGROUP_V1_PEAK
    return None


def container_peak_bytes() -> int | None:
    """The container's peak memory, or None outside a container (or on a kernel without the file)."""
    try:
        peak_file = container_peak_file(PROC_CGROUP.read_text(), PROC_MOUNTINFO.read_text())
        return int(peak_file.read_text().strip()) if peak_file is not None else None
    except (OSError, ValueError):
        return None


def largest_resident_bytes() -> int:
    """The largest resident size of this process or of one child it waited for (Linux reports KiB)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return max(own.ru_maxrss, children.ru_maxrss) * 1024


def cpu_seconds() -> float:
    """CPU used by this process and every child it has waited for."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def peak_memory_bytes() -> int:
    container = container_peak_bytes()
    return container if container is not None else largest_resident_bytes()


@dataclass(frozen=True)
class ResourceMeter:
    """CPU counted from when the render started; peak memory over the whole process."""

    cpu_started: float

    @classmethod
    def start(cls) -> ResourceMeter:
        return cls(cpu_seconds())

    def figures(self) -> dict[str, float | int]:
        """The :class:`videojob.contract.Usage` fields this module measures, by their Python names."""
        return {
            "cpu_seconds": round(max(cpu_seconds() - self.cpu_started, 0.0), 2),
            "peak_memory_bytes": peak_memory_bytes(),
        }
