"""The renderer's own measure of what a render cost: peak memory (the container's when it is one) and CPU.

The cgroup files are picked from ``/proc/self/mountinfo`` as the kernel writes it: inside a
container the runtime mounts the container's own cgroup at /sys/fs/cgroup; on a host the
cgroup holds other programs too and the figure must not be the whole session's.
The measured figures come from real child processes allocating real memory.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from videojob.renderer import usage

V1_CONTAINER_CGROUP = """\
12:memory:/kubepods/burstable/pod1f0e/3c9a
11:cpu,cpuacct:/kubepods/burstable/pod1f0e/3c9a
0::/
"""
V1_CONTAINER_MOUNTS = """\
700 690 0:28 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
705 700 0:32 /kubepods/burstable/pod1f0e/3c9a /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory
706 700 0:33 /kubepods/burstable/pod1f0e/3c9a /sys/fs/cgroup/cpu,cpuacct ro - cgroup cgroup rw,cpu,cpuacct
"""
V2_CONTAINER_CGROUP = "0::/\n"
V2_CONTAINER_MOUNTS = "801 790 0:27 / /sys/fs/cgroup ro,nosuid,nodev - cgroup2 cgroup2 rw,nsdelegate\n"
V2_HOST_CGROUP = "0::/user.slice/user-1000.slice/session-2.scope\n"
V1_HOST_CGROUP = "4:memory:/process_api/2410\n0::/\n"
V1_HOST_MOUNTS = "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"


def test_inside_a_cgroup_v1_container_the_peak_is_the_containers_max_usage() -> None:
    found = usage.container_peak_file(V1_CONTAINER_CGROUP, V1_CONTAINER_MOUNTS)
    assert found == Path("/sys/fs/cgroup/memory/memory.max_usage_in_bytes")


def test_inside_a_cgroup_v2_container_the_peak_is_memory_peak() -> None:
    assert usage.container_peak_file(V2_CONTAINER_CGROUP, V2_CONTAINER_MOUNTS) == Path("/sys/fs/cgroup/memory.peak")


def test_on_a_host_the_session_cgroup_is_not_taken_for_the_renderers() -> None:
    assert usage.container_peak_file(V2_HOST_CGROUP, V2_CONTAINER_MOUNTS) is None
    assert usage.container_peak_file(V1_HOST_CGROUP, V1_HOST_MOUNTS) is None


def test_outside_a_container_the_peak_is_the_largest_child_it_waited_for() -> None:
    before = usage.largest_resident_bytes()
    # In a full test run an earlier child may have been big: this one is bigger than any before it.
    size = max(300 * 2**20, before + 64 * 2**20)
    subprocess.run([sys.executable, "-c", f"b = bytearray({size}); b[::4096] = b'x' * len(b[::4096])"], check=True)
    if usage.container_peak_bytes() is None:  # this machine may itself be a container; then its cgroup is the truth
        assert usage.peak_memory_bytes() >= size > before
    assert usage.largest_resident_bytes() >= size


def test_cpu_is_counted_from_the_start_of_the_render_and_includes_children() -> None:
    meter = usage.ResourceMeter.start()
    subprocess.run([sys.executable, "-c", "sum(i * i for i in range(3_000_000))"], check=True)
    figures = meter.figures()
    assert 0.1 < figures["cpu_seconds"] < 30
    assert figures["peak_memory_bytes"] > 10 * 2**20
