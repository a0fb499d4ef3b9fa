"""The renderer runs as many scene workers as the Pod's CPU limit allows, on cgroup v1 and v2 nodes."""

import os

import pytest

from videojob.renderer.settings import cgroup_cpu_quota, cpu_limit

AVAILABLE = len(os.sched_getaffinity(0))


def _v1(root, quota_us, period_us=100000, controller="cpu"):
    folder = root / controller
    folder.mkdir(parents=True)
    (folder / "cpu.cfs_quota_us").write_text(f"{quota_us}\n")
    (folder / "cpu.cfs_period_us").write_text(f"{period_us}\n")


def test_cgroup_v2_limit_is_read_from_cpu_max(tmp_path):
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert cgroup_cpu_quota(tmp_path) == 1.5
    assert cpu_limit(tmp_path) == 1


@pytest.mark.parametrize("controller", ["cpu", "cpu,cpuacct"])
def test_cgroup_v1_limit_is_read_from_the_cfs_quota(tmp_path, controller):
    _v1(tmp_path, 100000, controller=controller)
    assert cgroup_cpu_quota(tmp_path) == 1.0
    assert cpu_limit(tmp_path) == 1


def test_a_fraction_of_a_cpu_still_gets_one_worker(tmp_path):
    _v1(tmp_path, 20000)  # 200m
    assert cpu_limit(tmp_path) == 1


def test_no_limit_uses_every_cpu_the_process_may_run_on(tmp_path):
    _v1(tmp_path, -1)
    assert cgroup_cpu_quota(tmp_path) is None
    assert cpu_limit(tmp_path) == AVAILABLE
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cpu_limit(tmp_path) == AVAILABLE


def test_a_limit_above_the_affinity_mask_is_capped_by_it(tmp_path):
    _v1(tmp_path, (AVAILABLE + 3) * 100000)
    assert cpu_limit(tmp_path) == AVAILABLE
