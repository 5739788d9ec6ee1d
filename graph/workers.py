"""How many workers `serve` starts by default: one per CPU this process may use.

`os.cpu_count()` counts the host's CPUs: a container limited to 2 CPUs on a 64-core host
would start 64 workers that share 2 CPUs (64 copies of every cache, and throttling). The
CPUs this process may use are the fewest of:

- its CPU affinity (`os.sched_getaffinity`: `taskset`, `docker run --cpuset-cpus`);
- its cgroup's CPU quota, rounded up: cgroup v2 `cpu.max` ("max 100000" is no limit,
  "150000 100000" is 1.5 CPUs), or cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us` (-1 is
  no limit). `docker run --cpus`, Kubernetes `limits.cpu` and systemd's `CPUQuota` set it.

The cgroup is the one `/proc/self/cgroup` names, and each of its ancestors up to the mount
(a limit on a parent applies to its children); inside a container without a cgroup
namespace that path is the host's, so the mount root itself is read too.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_SELF_CGROUP = Path("/proc/self/cgroup")


def default_workers(
    root: Path = CGROUP_ROOT, self_cgroup: Path = PROC_SELF_CGROUP, affinity: int | None = None
) -> int:
    """The CPUs this process may use (at least 1)."""
    cpus = affinity if affinity is not None else _affinity()
    quota = cgroup_cpu_quota(root, self_cgroup)
    if quota is not None:
        cpus = min(cpus, math.ceil(quota))
    return max(1, cpus)


def cgroup_cpu_quota(
    root: Path = CGROUP_ROOT, self_cgroup: Path = PROC_SELF_CGROUP
) -> float | None:
    """The tightest CPU quota on this process's cgroup and its ancestors, in CPUs; `None`
    when there is none (or no cgroup file system to read)."""
    quotas = [q for directory in _cgroup_dirs(root, self_cgroup) if (q := _quota(directory))]
    return min(quotas, default=None)


def _affinity() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # pragma: no cover - macOS, Windows


def _cgroup_dirs(root: Path, self_cgroup: Path) -> list[Path]:
    """Every cgroup directory whose CPU limit applies: v2's unified one, else v1's `cpu`."""
    try:
        lines = self_cgroup.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    dirs: list[Path] = []
    for line in lines:
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and controllers == "":
            mount = root
        elif "cpu" in controllers.split(","):
            mount = root / controllers
            if not mount.is_dir():  # some systems mount v1's cpu as /sys/fs/cgroup/cpu
                mount = root / "cpu"
        else:
            continue
        dirs += _ancestors(mount, path)
    return dirs


def _ancestors(mount: Path, path: str) -> list[Path]:
    parts = [p for p in path.split("/") if p and p != ".."]
    found = [mount.joinpath(*parts[:n]) for n in range(len(parts), -1, -1)]
    return [d for d in found if d.is_dir()]


def _quota(directory: Path) -> float | None:
    v2 = _read(directory / "cpu.max")
    if v2 is not None:
        quota, _, period = v2.partition(" ")
        return _ratio(quota, period or "100000")
    v1 = _read(directory / "cpu.cfs_quota_us")
    if v1 is not None:
        return _ratio(v1, _read(directory / "cpu.cfs_period_us") or "100000")
    return None


def _ratio(quota: str, period: str) -> float | None:
    """CPUs from a quota and a period in microseconds; `None` for "max" or -1 (no limit)."""
    try:
        used, per = int(quota), int(period)
    except ValueError:
        return None
    return used / per if used > 0 and per > 0 else None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
