"""The CPU and memory a container may use, read from its cgroup (v2 first, then v1).

A pod limited to 2 CPUs on a 64-core host must start 2 worker threads, not 64, and must cap its
store below the memory limit the kernel kills it at. os.cpu_count() and /proc/meminfo show the
host; the cgroup files show the container:
  v2: <root>/<path>/cpu.max ("max 100000" or "200000 100000"), memory.max ("max" or bytes)
  v1: <root>/cpu,cpuacct/<path>/cpu.cfs_quota_us and cpu.cfs_period_us (-1: none),
      <root>/memory/<path>/memory.limit_in_bytes (a huge number: none)
<path> comes from /proc/self/cgroup; inside a container's cgroup namespace it is "/", and the
root's own files are read when the path's are absent. `root` and `proc_cgroup` are parameters
so tests can point them at a folder they write.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = "/sys/fs/cgroup"
PROC_CGROUP = "/proc/self/cgroup"
NO_LIMIT = 1 << 60  # v1 reports "no memory limit" as about 2**63 rounded to pages


@dataclass(frozen=True)
class Limits:
    """What the cgroup allows: CPUs (fractional, None: no quota), memory bytes (None: no limit)."""

    cpus: float | None
    memory: int | None
    version: int | None  # 2, 1, or None when no cgroup file was readable
    cpu_file: str | None = None
    memory_file: str | None = None


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _paths(proc_cgroup: str) -> dict[str, str]:
    """controller -> cgroup path ("" for the v2 unified hierarchy)."""
    out: dict[str, str] = {}
    text = _read(Path(proc_cgroup)) or ""
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        for c in controllers.split(",") if controllers else [""]:
            out[c] = path
    return out


def _candidates(base: Path, path: str | None) -> list[Path]:
    """The cgroup's own folder first, then the hierarchy's root (a namespaced container)."""
    out = []
    if path and path != "/":
        out.append(base / path.lstrip("/"))
    out.append(base)
    return out


def _v2(root: Path, path: str | None) -> tuple[float | None, int | None, str | None, str | None] | None:
    dirs = _candidates(root, path)
    cpu_file = next((d / "cpu.max" for d in dirs if (d / "cpu.max").exists()), None)
    mem_file = next((d / "memory.max" for d in dirs if (d / "memory.max").exists()), None)
    if cpu_file is None and mem_file is None:
        return None
    cpus = memory = None
    if cpu_file is not None:
        fields = (_read(cpu_file) or "max").split()
        if fields and fields[0] != "max":
            period = float(fields[1]) if len(fields) > 1 else 100000.0
            cpus = float(fields[0]) / period
    if mem_file is not None:
        raw = _read(mem_file) or "max"
        if raw != "max" and int(raw) < NO_LIMIT:
            memory = int(raw)
    return cpus, memory, str(cpu_file) if cpu_file else None, str(mem_file) if mem_file else None


def _v1(root: Path, paths: dict[str, str]) -> tuple[float | None, int | None, str | None, str | None] | None:
    cpus = memory = None
    cpu_file = mem_file = None
    for name in ("cpu,cpuacct", "cpu", "cpuacct,cpu"):
        for d in _candidates(root / name, paths.get("cpu")):
            quota = _read(d / "cpu.cfs_quota_us")
            if quota is None:
                continue
            period = _read(d / "cpu.cfs_period_us") or "100000"
            cpu_file = str(d / "cpu.cfs_quota_us")
            if int(quota) > 0:
                cpus = int(quota) / int(period)
            break
        if cpu_file:
            break
    for d in _candidates(root / "memory", paths.get("memory")):
        raw = _read(d / "memory.limit_in_bytes")
        if raw is None:
            continue
        mem_file = str(d / "memory.limit_in_bytes")
        if int(raw) < NO_LIMIT:
            memory = int(raw)
        break
    if cpu_file is None and mem_file is None:
        return None
    return cpus, memory, cpu_file, mem_file


def read_limits(root: str = CGROUP_ROOT, proc_cgroup: str = PROC_CGROUP) -> Limits:
    """The container's CPU quota and memory limit (v2 files when present, else v1)."""
    base = Path(root)
    paths = _paths(proc_cgroup)
    try:
        got = _v2(base, paths.get("")) if (base / "cgroup.controllers").exists() else None
        version = 2
        if got is None:
            got, version = _v1(base, paths), 1
    except (ValueError, IndexError):  # a file we cannot read as a number: treat as no limit
        got = None
    if got is None:
        return Limits(None, None, None)
    cpus, memory, cpu_file, mem_file = got
    return Limits(cpus, memory, version, cpu_file, mem_file)


def host_cores() -> int:
    """Cores this process may be scheduled on (its affinity mask), ignoring any quota."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def cpu_threads(limits: Limits, cores: int | None = None) -> int:
    """Worker threads for the quota: ceil(quota), at most the cores, at least 1."""
    cores = cores or host_cores()
    if limits.cpus is None:
        return cores
    return max(1, min(cores, math.ceil(limits.cpus - 1e-9)))
