"""``linux.resources`` → cgroupfs file writes (pure), and OOM-kill counters.

Each function returns ``[(controller, file, value), ...]`` in the order the
files must be written; the managers only perform the writes.  Order matters
on v1: ``memory.memsw.limit_in_bytes`` may never be below
``memory.limit_in_bytes``, so a raise writes memsw first and a lowering
writes the limit first (runc's rule) — ``v1_writes`` takes the current limit
to decide.
"""

from __future__ import annotations

from pathlib import Path

from dockyard.oci.runtime import Resources
from dockyard.runtime.cgroups.stats import flat_keyed

Write = tuple[str, str, str]  # (controller, file name, value)


def v1_writes(r: Resources, current_limit: int | None = None) -> list[Write]:
    out: list[Write] = []
    mem: list[Write] = []
    if r.memory_limit is not None:
        mem.append(("memory", "memory.limit_in_bytes", str(r.memory_limit if r.memory_limit > 0 else -1)))
    if r.memory_swap is not None and r.memory_swap != 0:
        swap = ("memory", "memory.memsw.limit_in_bytes", str(r.memory_swap if r.memory_swap > 0 else -1))
        raising = (r.memory_swap < 0 or current_limit is None or current_limit < 0
                   or r.memory_swap > current_limit)
        mem = [swap, *mem] if raising else [*mem, swap]
    out += mem
    if r.memory_reservation is not None:
        out.append(("memory", "memory.soft_limit_in_bytes",
                    str(r.memory_reservation if r.memory_reservation > 0 else -1)))
    if r.disable_oom_killer:
        out.append(("memory", "memory.oom_control", "1"))
    if r.pids_limit is not None:
        out.append(("pids", "pids.max", "max" if r.pids_limit <= 0 else str(r.pids_limit)))
    if r.cpu_shares:
        out.append(("cpu", "cpu.shares", str(r.cpu_shares)))
    if r.cpu_period:
        out.append(("cpu", "cpu.cfs_period_us", str(r.cpu_period)))
    if r.cpu_quota is not None and r.cpu_quota != 0:
        out.append(("cpu", "cpu.cfs_quota_us", str(r.cpu_quota if r.cpu_quota > 0 else -1)))
    if r.cpuset_cpus:
        out.append(("cpuset", "cpuset.cpus", r.cpuset_cpus))
    if r.cpuset_mems:
        out.append(("cpuset", "cpuset.mems", r.cpuset_mems))
    if r.blkio_weight:
        out.append(("blkio", "blkio.weight", str(r.blkio_weight)))
    # one "major:minor value" line per write: the kernel takes a single device each time
    out += [("blkio", "blkio.weight_device", f"{d.major}:{d.minor} {d.value}") for d in r.blkio_weight_device]
    for attr, name in (("blkio_read_bps", "read_bps_device"), ("blkio_write_bps", "write_bps_device"),
                       ("blkio_read_iops", "read_iops_device"), ("blkio_write_iops", "write_iops_device")):
        out += [("blkio", f"blkio.throttle.{name}", f"{d.major}:{d.minor} {d.value}") for d in getattr(r, attr)]
    return out


def shares_to_weight(shares: int) -> int:
    """cpu.shares [2, 262144] -> cpu.weight [1, 10000] (the runc/crun conversion)."""
    return 1 + ((shares - 2) * 9999) // 262142


def blkio_to_io_weight(weight: int) -> int:
    """blkio.weight [10, 1000] -> io.weight [1, 10000] (runc's ConvertBlkIOToIOWeightValue)."""
    return 1 + (weight - 10) * 9999 // 990


def v2_writes(r: Resources) -> list[Write]:
    out: list[Write] = []
    if r.memory_limit is not None:
        out.append(("memory", "memory.max", "max" if r.memory_limit <= 0 else str(r.memory_limit)))
    if r.memory_swap is not None and r.memory_swap != 0:
        # OCI's swap is memory+swap (v1 semantics); memory.swap.max is swap alone.
        if r.memory_swap < 0:
            value = "max"
        elif r.memory_limit and r.memory_limit > 0:
            value = str(max(0, r.memory_swap - r.memory_limit))
        else:
            value = str(r.memory_swap)
        out.append(("memory", "memory.swap.max", value))
    if r.memory_reservation is not None:
        out.append(("memory", "memory.low", "0" if r.memory_reservation <= 0 else str(r.memory_reservation)))
    if r.pids_limit is not None:
        out.append(("pids", "pids.max", "max" if r.pids_limit <= 0 else str(r.pids_limit)))
    if r.cpu_shares:
        out.append(("cpu", "cpu.weight", str(shares_to_weight(r.cpu_shares))))
    if r.cpu_quota or r.cpu_period:
        quota = str(r.cpu_quota) if r.cpu_quota and r.cpu_quota > 0 else "max"
        out.append(("cpu", "cpu.max", f"{quota} {r.cpu_period or 100000}"))
    if r.cpuset_cpus:
        out.append(("cpuset", "cpuset.cpus", r.cpuset_cpus))
    if r.cpuset_mems:
        out.append(("cpuset", "cpuset.mems", r.cpuset_mems))
    if r.blkio_weight:
        out.append(("io", "io.weight", f"default {blkio_to_io_weight(r.blkio_weight)}"))
    out += [("io", "io.weight", f"{d.major}:{d.minor} {blkio_to_io_weight(d.value)}") for d in r.blkio_weight_device]
    # io.max takes one key=value per write and keeps the device's other keys (runc writes them one by one)
    for attr, key in (("blkio_read_bps", "rbps"), ("blkio_write_bps", "wbps"),
                      ("blkio_read_iops", "riops"), ("blkio_write_iops", "wiops")):
        out += [("io", "io.max", f"{d.major}:{d.minor} {key}={d.value}") for d in getattr(r, attr)]
    return out


def oom_kills(memory_dir: Path, version: str) -> int:
    """How many processes the OOM killer took in this cgroup (v1 ``memory.oom_control``
    ``oom_kill``, kernel 4.13+; v2 ``memory.events``); 0 if unreadable."""
    name = "memory.events" if version == "v2" else "memory.oom_control"
    try:
        return flat_keyed((memory_dir / name).read_text()).get("oom_kill", 0)
    except OSError:
        return 0
