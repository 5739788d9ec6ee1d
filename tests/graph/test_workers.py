"""`serve --workers` defaults to the CPUs the process may use, read from cgroup files laid out
as Linux lays them out (v2 unified, v1 `cpu,cpuacct`), not from the host's core count."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.workers import cgroup_cpu_quota, default_workers


def cgroup_v2(tmp_path: Path, limits: dict[str, str], own: str = "/") -> tuple[Path, Path]:
    """A cgroup v2 mount with `cpu.max` per directory, and a /proc/self/cgroup naming `own`."""
    root = tmp_path / "cgroup"
    for directory, cpu_max in limits.items():
        (root / directory.strip("/")).mkdir(parents=True, exist_ok=True)
        (root / directory.strip("/") / "cpu.max").write_text(cpu_max + "\n")
    (root / own.strip("/")).mkdir(parents=True, exist_ok=True)
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text(f"0::{own}\n")
    return root, proc


@pytest.mark.parametrize(
    ("cpu_max", "quota", "workers"),
    [
        ("200000 100000", 2.0, 2),  # docker run --cpus 2
        ("150000 100000", 1.5, 2),  # a fraction rounds up: 2 workers share 1.5 CPUs
        ("50000 100000", 0.5, 1),
        ("max 100000", None, 64),  # no limit: the affinity decides
        ("max", None, 64),
    ],
)
def test_cgroup_v2_cpu_max_caps_the_default(
    tmp_path: Path, cpu_max: str, quota: float | None, workers: int
) -> None:
    root, proc = cgroup_v2(tmp_path, {"/": cpu_max})
    assert cgroup_cpu_quota(root, proc) == quota
    assert default_workers(root, proc, affinity=64) == workers


def test_a_limit_on_a_parent_cgroup_applies_to_its_children(tmp_path: Path) -> None:
    root, proc = cgroup_v2(
        tmp_path,
        {"/kubepods": "300000 100000", "/kubepods/pod1/ctr": "max 100000"},
        own="/kubepods/pod1/ctr",
    )
    assert cgroup_cpu_quota(root, proc) == 3.0
    assert default_workers(root, proc, affinity=64) == 3


def test_the_affinity_wins_when_it_is_tighter(tmp_path: Path) -> None:
    root, proc = cgroup_v2(tmp_path, {"/": "800000 100000"})
    assert default_workers(root, proc, affinity=3) == 3


def test_cgroup_v1_cfs_quota_and_period(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    cpu = root / "cpu,cpuacct" / "docker" / "abc"
    cpu.mkdir(parents=True)
    (cpu / "cpu.cfs_quota_us").write_text("250000\n")
    (cpu / "cpu.cfs_period_us").write_text("100000\n")
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text(
        "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n"
    )
    assert cgroup_cpu_quota(root, proc) == 2.5
    assert default_workers(root, proc, affinity=64) == 3


def test_cgroup_v1_without_a_namespace_reads_the_mount_root(tmp_path: Path) -> None:
    # The container sees the host's path in /proc/self/cgroup, but its own cgroup at the mount.
    root = tmp_path / "cgroup"
    (root / "cpu,cpuacct").mkdir(parents=True)
    (root / "cpu,cpuacct" / "cpu.cfs_quota_us").write_text("100000\n")
    (root / "cpu,cpuacct" / "cpu.cfs_period_us").write_text("100000\n")
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text("4:cpu,cpuacct:/docker/0123456789abcdef\n")
    assert default_workers(root, proc, affinity=16) == 1


def test_cgroup_v1_unlimited_quota(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    (root / "cpu").mkdir(parents=True)
    (root / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text("3:cpu:/\n")
    assert cgroup_cpu_quota(root, proc) is None
    assert default_workers(root, proc, affinity=5) == 5


def test_no_cgroup_file_system_means_no_quota(tmp_path: Path) -> None:
    assert cgroup_cpu_quota(tmp_path / "none", tmp_path / "no-proc") is None
    assert default_workers(tmp_path / "none", tmp_path / "no-proc", affinity=4) == 4
