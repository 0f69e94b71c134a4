"""Usage counters of a container's cgroup (v1 and v2) as one ``Sample``.

The parsers are pure (text in, numbers out); ``sample`` reads the files of a
manager's directories.  Missing files count as zero: a controller may not be
mounted, and a container may exit between two reads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dockyard.runtime.cgroups.base import read_pids

_NS_PER_TICK = 1_000_000_000 // os.sysconf("SC_CLK_TCK")


@dataclass(slots=True)
class Sample:
    cpu_total: int = 0  # ns
    cpu_user: int = 0
    cpu_system: int = 0
    percpu: list[int] = field(default_factory=list)
    periods: int = 0
    throttled_periods: int = 0
    throttled_time: int = 0  # ns
    mem_usage: int = 0
    mem_max_usage: int = 0
    mem_limit: int = 0  # 0: unlimited
    mem_failcnt: int = 0
    mem_stat: dict[str, int] = field(default_factory=dict)
    pids_current: int = 0
    pids_limit: int = 0  # 0: unlimited
    io_bytes: list[tuple[int, int, str, int]] = field(default_factory=list)  # major, minor, op, value
    io_ops: list[tuple[int, int, str, int]] = field(default_factory=list)
    v2: bool = False


def flat_keyed(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        try:
            out[key] = int(value)
        except ValueError:
            continue
    return out


def _int(text: str) -> int:
    text = text.strip()
    if not text or text == "max":
        return 0
    try:
        return int(text)
    except ValueError:
        return 0


def blkio_v1(text: str) -> list[tuple[int, int, str, int]]:
    """``8:0 Read 4096`` lines (``Total N`` skipped) → tuples."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and ":" in parts[0]:
            major, minor = parts[0].split(":")
            out.append((int(major), int(minor), parts[1], int(parts[2])))
    return out


def io_stat_v2(text: str) -> tuple[list[tuple[int, int, str, int]], list[tuple[int, int, str, int]]]:
    """``8:0 rbytes=1 wbytes=2 rios=3 wios=4 ...`` → (bytes, ops) in v1's Read/Write shape."""
    by: list[tuple[int, int, str, int]] = []
    ops: list[tuple[int, int, str, int]] = []
    for line in text.splitlines():
        parts = line.split()
        if not parts or ":" not in parts[0]:
            continue
        major, minor = (int(x) for x in parts[0].split(":"))
        kv = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        by += [(major, minor, "read", int(kv.get("rbytes", 0))), (major, minor, "write", int(kv.get("wbytes", 0)))]
        ops += [(major, minor, "read", int(kv.get("rios", 0))), (major, minor, "write", int(kv.get("wios", 0)))]
    return by, ops


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def sample_v1(dirs: dict[str, Path]) -> Sample:
    def d(controller: str) -> Path:
        for name, p in dirs.items():
            if controller in name.split(","):
                return p
        return Path("/nonexistent")

    acct, cpu, mem, pids, blkio = d("cpuacct"), d("cpu"), d("memory"), d("pids"), d("blkio")
    ticks = flat_keyed(_read(acct / "cpuacct.stat"))
    throttle = flat_keyed(_read(cpu / "cpu.stat"))
    limit = _int(_read(mem / "memory.limit_in_bytes"))
    return Sample(
        cpu_total=_int(_read(acct / "cpuacct.usage")),
        cpu_user=ticks.get("user", 0) * _NS_PER_TICK, cpu_system=ticks.get("system", 0) * _NS_PER_TICK,
        percpu=[int(x) for x in _read(acct / "cpuacct.usage_percpu").split()],
        periods=throttle.get("nr_periods", 0), throttled_periods=throttle.get("nr_throttled", 0),
        throttled_time=throttle.get("throttled_time", 0),
        mem_usage=_int(_read(mem / "memory.usage_in_bytes")),
        mem_max_usage=_int(_read(mem / "memory.max_usage_in_bytes")),
        mem_limit=0 if limit >= 1 << 62 else limit,
        mem_failcnt=_int(_read(mem / "memory.failcnt")),
        mem_stat=flat_keyed(_read(mem / "memory.stat")),
        pids_current=len(read_pids([pids])) if not (pids / "pids.current").exists()
        else _int(_read(pids / "pids.current")),
        pids_limit=_int(_read(pids / "pids.max")),
        io_bytes=blkio_v1(_read(blkio / "blkio.throttle.io_service_bytes_recursive")),
        io_ops=blkio_v1(_read(blkio / "blkio.throttle.io_serviced_recursive")),
    )


def sample_v2(path: Path) -> Sample:
    cpu = flat_keyed(_read(path / "cpu.stat"))
    by, ops = io_stat_v2(_read(path / "io.stat"))
    return Sample(
        cpu_total=cpu.get("usage_usec", 0) * 1000, cpu_user=cpu.get("user_usec", 0) * 1000,
        cpu_system=cpu.get("system_usec", 0) * 1000, periods=cpu.get("nr_periods", 0),
        throttled_periods=cpu.get("nr_throttled", 0), throttled_time=cpu.get("throttled_usec", 0) * 1000,
        mem_usage=_int(_read(path / "memory.current")), mem_max_usage=_int(_read(path / "memory.peak")),
        mem_limit=_int(_read(path / "memory.max")), mem_stat=flat_keyed(_read(path / "memory.stat")),
        pids_current=_int(_read(path / "pids.current")), pids_limit=_int(_read(path / "pids.max")),
        io_bytes=by, io_ops=ops, v2=True,
    )


def sample(cgroup: object) -> Sample:
    """Read a ``CgroupManager``'s counters (v1 ``dirs`` or v2 ``path``)."""
    if getattr(cgroup, "version", "") == "v2":
        return sample_v2(cgroup.path)  # type: ignore[attr-defined]
    return sample_v1(dict(cgroup.dirs))  # type: ignore[attr-defined]


def system_cpu_ns(proc_stat: str) -> int:
    """Docker's ``system_cpu_usage``: the first ``cpu`` line of /proc/stat, in ns."""
    for line in proc_stat.splitlines():
        if line.startswith("cpu "):
            return sum(int(x) for x in line.split()[1:8]) * _NS_PER_TICK
    return 0


def net_dev(text: str) -> dict[str, dict[str, int]]:
    """/proc/<pid>/net/dev → Docker's ``networks`` (lo left out, as Docker's)."""
    out: dict[str, dict[str, int]] = {}
    for line in text.splitlines()[2:]:
        name, _, rest = line.partition(":")
        name = name.strip()
        f = [int(x) for x in rest.split()]
        if name == "lo" or len(f) < 12:
            continue
        out[name] = {"rx_bytes": f[0], "rx_packets": f[1], "rx_errors": f[2], "rx_dropped": f[3],
                     "tx_bytes": f[8], "tx_packets": f[9], "tx_errors": f[10], "tx_dropped": f[11]}
    return out
