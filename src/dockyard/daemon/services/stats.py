"""``GET /containers/{id}/stats``: cgroup samples → Docker's stats JSON.

``encode`` is pure (two samples + host numbers → the object moby's
``types.StatsJSON`` serialises to).  Streaming yields one object a second,
each carrying the previous sample as ``precpu_stats``; ``stream=false`` takes
two samples a second apart so the CPU percentage can be computed, and
``one-shot=true`` returns the first at once with empty ``precpu_stats`` —
moby's behaviour.  A container that is not running gets zeroed stats with
``read`` at Go's zero time, as Docker's.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

from dockyard.core.containers import ContainerStore, Status
from dockyard.core.timefmt import rfc3339_ns
from dockyard.runtime.cgroups.stats import Sample, net_dev, system_cpu_ns

ZERO_TIME = "0001-01-01T00:00:00Z"
INTERVAL = 1.0


def _mem_total() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _blkio(entries: list[tuple[int, int, str, int]]) -> list[dict[str, Any]]:
    return [{"major": ma, "minor": mi, "op": op, "value": v} for ma, mi, op, v in entries]


def _cpu(s: Sample | None, system: int, ncpu: int) -> dict[str, Any]:
    if s is None:
        return {"cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
                "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}}
    usage: dict[str, Any] = {"total_usage": s.cpu_total, "usage_in_kernelmode": s.cpu_system,
                             "usage_in_usermode": s.cpu_user}
    if s.percpu:
        usage["percpu_usage"] = s.percpu
    return {"cpu_usage": usage, "system_cpu_usage": system, "online_cpus": ncpu,
            "throttling_data": {"periods": s.periods, "throttled_periods": s.throttled_periods,
                                "throttled_time": s.throttled_time}}


def encode(*, id: str, name: str, cur: Sample, read_ns: int, system: int, pre: Sample | None, pre_ns: int | None,
           pre_system: int, ncpu: int, host_mem: int, networks: dict[str, dict[str, int]]) -> dict[str, Any]:
    limit = cur.mem_limit if cur.mem_limit and (not host_mem or cur.mem_limit < host_mem) else host_mem
    memory: dict[str, Any] = {"usage": cur.mem_usage, "stats": cur.mem_stat, "limit": limit}
    if not cur.v2:
        memory.update(max_usage=cur.mem_max_usage, failcnt=cur.mem_failcnt)
    pids: dict[str, int] = {"current": cur.pids_current}
    if cur.pids_limit:
        pids["limit"] = cur.pids_limit
    out: dict[str, Any] = {
        "name": "/" + name, "id": id,
        "read": rfc3339_ns(read_ns), "preread": rfc3339_ns(pre_ns) if pre_ns else ZERO_TIME,
        "pids_stats": pids,
        "blkio_stats": {"io_service_bytes_recursive": _blkio(cur.io_bytes) or None,
                        "io_serviced_recursive": _blkio(cur.io_ops) or None,
                        "io_queue_recursive": None, "io_service_time_recursive": None,
                        "io_wait_time_recursive": None, "io_merged_recursive": None,
                        "io_time_recursive": None, "sectors_recursive": None},
        "num_procs": 0, "storage_stats": {},
        "cpu_stats": _cpu(cur, system, ncpu),
        "precpu_stats": _cpu(pre, pre_system, ncpu) if pre is not None else _cpu(None, 0, 0),
        "memory_stats": memory,
    }
    if networks:
        out["networks"] = networks
    return out


def _empty(id: str, name: str) -> dict[str, Any]:
    return {"name": "/" + name, "id": id, "read": ZERO_TIME, "preread": ZERO_TIME, "pids_stats": {},
            "blkio_stats": {k: None for k in ("io_service_bytes_recursive", "io_serviced_recursive",
                                              "io_queue_recursive", "io_service_time_recursive",
                                              "io_wait_time_recursive", "io_merged_recursive",
                                              "io_time_recursive", "sectors_recursive")},
            "num_procs": 0, "storage_stats": {}, "cpu_stats": _cpu(None, 0, 0), "precpu_stats": _cpu(None, 0, 0),
            "memory_stats": {}}


class StatsService:
    def __init__(self, store: ContainerStore, runtime: Any, *, interval: float = INTERVAL,
                 clock: Callable[[], int] = time.time_ns, sleep: Callable[[float], None] = time.sleep) -> None:
        self._store = store
        self._runtime = runtime
        self._interval = interval
        self._clock = clock
        self._sleep = sleep
        self._ncpu = len(os.sched_getaffinity(0))
        self._host_mem = _mem_total()

    def _take(self, id: str, pid: int) -> tuple[Sample, int, int, dict[str, dict[str, int]]] | None:
        try:
            s = self._runtime.cgroup_sample(id)
            system = system_cpu_ns(Path("/proc/stat").read_text())
            nets = net_dev(Path(f"/proc/{pid}/net/dev").read_text()) if pid else {}
        except (OSError, Exception):  # the container went away between two reads
            return None
        return s, self._clock(), system, nets

    def stats(self, ref: str, *, stream: bool = True, one_shot: bool = False) -> Iterator[dict[str, Any]]:
        """Resolve ``ref`` now (NotFound → 404 before any byte), then yield objects."""
        rec = self._store.resolve(ref)
        return self._frames(rec.id, stream, one_shot)

    def _frames(self, id: str, stream: bool, one_shot: bool) -> Iterator[dict[str, Any]]:
        pre: tuple[Sample, int, int, dict[str, dict[str, int]]] | None = None
        while True:
            rec = self._store.get(id)
            running = rec.state.status in (Status.RUNNING, Status.PAUSED)
            cur = self._take(id, rec.state.pid) if running else None
            if cur is None:
                yield _empty(id, rec.name)
                if not stream:
                    return
            elif pre is None and not stream and not one_shot:
                pre = cur  # moby: a non-streamed answer waits for a second sample
                self._sleep(self._interval)
                continue
            else:
                yield encode(id=id, name=rec.name, cur=cur[0], read_ns=cur[1], system=cur[2],
                             pre=pre[0] if pre else None, pre_ns=pre[1] if pre else None,
                             pre_system=pre[2] if pre else 0, ncpu=self._ncpu, host_mem=self._host_mem,
                             networks=cur[3])
                if not stream:
                    return
                pre = cur
            self._sleep(self._interval)
