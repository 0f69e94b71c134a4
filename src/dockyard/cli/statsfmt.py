"""``docker stats`` rows from stats JSON (pure; the docker CLI's formulas).

CPU % = container CPU delta / system CPU delta × online CPUs × 100; memory
usage leaves out the page cache the kernel can drop (v1
``total_inactive_file``, v2 ``inactive_file``), as docker 20.10+.
"""

from __future__ import annotations

from dockyard.wire.humanize import bytes_size, human_size

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

HEADER = ("CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS")


def cpu_percent(s: dict[str, Any]) -> float:
    cur, pre = s.get("cpu_stats") or {}, s.get("precpu_stats") or {}
    cpu_delta = (cur.get("cpu_usage") or {}).get("total_usage", 0) - (pre.get("cpu_usage") or {}).get("total_usage", 0)
    sys_delta = cur.get("system_cpu_usage", 0) - pre.get("system_cpu_usage", 0)
    ncpu = cur.get("online_cpus") or len((cur.get("cpu_usage") or {}).get("percpu_usage") or ()) or 1
    return cpu_delta / sys_delta * ncpu * 100.0 if sys_delta > 0 and cpu_delta > 0 else 0.0


def memory(s: dict[str, Any]) -> tuple[float, float]:
    m = s.get("memory_stats") or {}
    stats = m.get("stats") or {}
    usage = m.get("usage", 0)
    cache = stats.get("total_inactive_file", stats.get("inactive_file", 0))
    return float(max(0, usage - cache) if cache < usage else usage), float(m.get("limit", 0))


def row(s: dict[str, Any], *, no_trunc: bool = False) -> tuple[str, ...]:
    cid = s.get("id", "")
    running = s.get("read", "").startswith("0001-") is False
    if not running:
        return (cid if no_trunc else cid[:12], s.get("name", "").lstrip("/"), "0.00%", "0B / 0B", "0.00%",
                "0B / 0B", "0B / 0B", "0")
    used, limit = memory(s)
    rx = sum(n.get("rx_bytes", 0) for n in (s.get("networks") or {}).values())
    tx = sum(n.get("tx_bytes", 0) for n in (s.get("networks") or {}).values())
    blk_r = blk_w = 0
    for e in (s.get("blkio_stats") or {}).get("io_service_bytes_recursive") or ():
        op = e.get("op", "").lower()
        blk_r += e.get("value", 0) if op == "read" else 0
        blk_w += e.get("value", 0) if op == "write" else 0
    return (cid if no_trunc else cid[:12], s.get("name", "").lstrip("/"), f"{cpu_percent(s):.2f}%",
            f"{bytes_size(used)} / {bytes_size(limit)}", f"{used / limit * 100 if limit else 0:.2f}%",
            f"{human_size(rx)} / {human_size(tx)}", f"{human_size(blk_r)} / {human_size(blk_w)}",
            str((s.get("pids_stats") or {}).get("current", 0)))
