"""HostConfig resources → OCI ``linux.resources``, rlimits, ``/dev/shm`` size, devices.

Pure apart from ``HostFacts.probe`` and the ``stat`` seam for ``--device``.
Validation and warnings follow moby's ``verifyPlatformContainerResources``
(daemon/daemon_unix.go) word for word; defaults follow
``adaptContainerSettings`` (MemorySwap = 2 × Memory, ShmSize 64 MiB).
"""

from __future__ import annotations

import os
import re
import stat as stat_mod
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping

from dockyard.errors import InvalidArgument, NotFound
from dockyard.oci import runtime as oci

MIN_MEMORY = 6 * 1024 * 1024
DEFAULT_SHM_SIZE = 64 * 1024 * 1024
CPU_PERIOD = 100_000  # µs, what --cpus is expressed against
_CPUSET = re.compile(r"^\d+(-\d+)?(,\d+(-\d+)?)*$")
_RULE = re.compile(r"^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$")


@dataclass(frozen=True, slots=True)
class HostFacts:
    """What the kernel offers, probed once (moby's sysinfo)."""

    ncpu: int = 1
    cpus: frozenset[int] = frozenset({0})
    mems: frozenset[int] = frozenset({0})
    cgroup_v2: bool = False
    swap_limit: bool = True
    blkio_weight: bool = True
    kernel_memory: bool = False
    blkio_devices: frozenset[str] = frozenset()  # the per-device HostConfig keys it can apply (daemon/blkio.py)

    @staticmethod
    @lru_cache(maxsize=1)
    def probe(root: Path = Path("/sys/fs/cgroup")) -> HostFacts:
        v2 = (root / "cgroup.controllers").exists()
        cpus = frozenset(os.sched_getaffinity(0))
        mems_text = _read(root / ("cpuset.mems.effective" if v2 else "cpuset/cpuset.mems")) or "0"
        try:
            mems = frozenset(parse_cpuset(mems_text))
        except InvalidArgument:
            mems = frozenset({0})
        from dockyard.daemon.blkio import probe_support

        if v2:
            return HostFacts(len(cpus), cpus, mems, True, True, True, False, probe_support(root, True))
        return HostFacts(len(cpus), cpus, mems, False, (root / "memory/memory.memsw.limit_in_bytes").exists(),
                         (root / "blkio/blkio.weight").exists(), False, probe_support(root, False))


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def parse_cpuset(text: str) -> set[int]:
    if not _CPUSET.match(text):
        raise InvalidArgument(f"invalid format: {text}")
    out: set[int] = set()
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


def _int(host: Mapping[str, Any], key: str) -> int:
    value = host.get(key)
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidArgument(f"invalid {key}: must be an integer")
    return value


def _ranges(ids: frozenset[int]) -> str:
    s = sorted(ids)
    return f"{s[0]}-{s[-1]}" if s and s == list(range(s[0], s[-1] + 1)) and len(s) > 1 else ",".join(map(str, s))


def validate(host: Mapping[str, Any], facts: HostFacts) -> list[str]:
    """Raise InvalidArgument (Docker's text) for what moby refuses; return its warnings."""
    warnings: list[str] = []
    mem, swap, res = _int(host, "Memory"), _int(host, "MemorySwap"), _int(host, "MemoryReservation")
    if mem != 0 and mem < MIN_MEMORY:
        raise InvalidArgument("Minimum memory limit allowed is 6MB")
    if mem > 0 and swap > 0 and swap < mem:
        raise InvalidArgument("Minimum memoryswap limit should be larger than memory limit, see usage")
    if mem == 0 and swap > 0:
        raise InvalidArgument("You should always set the Memory limit when using Memoryswap limit, see usage")
    if res != 0 and res < MIN_MEMORY:
        raise InvalidArgument("Minimum memory reservation allowed is 6MB")
    if mem > 0 and res > 0 and mem < res:
        raise InvalidArgument("Minimum memory limit can not be less than memory reservation limit, see usage")
    swappiness = host.get("MemorySwappiness")
    if swappiness is not None and swappiness != -1 and not 0 <= swappiness <= 100:
        raise InvalidArgument(f"Invalid value: {swappiness}, valid memory swappiness range is 0-100")
    if _int(host, "KernelMemory"):
        warnings.append("Specifying a kernel memory limit is deprecated and will be removed in a future release.")
    if host.get("OomKillDisable"):
        if facts.cgroup_v2:
            warnings.append("Your kernel does not support OomKillDisable. OomKillDisable discarded.")
        elif mem == 0:
            warnings.append("OOM killer is disabled for the container, but no memory limit is set, this can "
                            "result in the system running out of resources.")
    nano, period, quota = _int(host, "NanoCpus"), _int(host, "CpuPeriod"), _int(host, "CpuQuota")
    if nano and period:
        raise InvalidArgument("Conflicting options: Nano CPUs and CPU Period cannot both be set")
    if nano and quota:
        raise InvalidArgument("Conflicting options: Nano CPUs and CPU Quota cannot both be set")
    if nano < 0 or nano > facts.ncpu * 10**9:
        raise InvalidArgument(f"Range of CPUs is from 0.01 to {facts.ncpu}.00, as there are only "
                              f"{facts.ncpu} CPUs available")
    if period and not 1000 <= period <= 1_000_000:
        raise InvalidArgument("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)")
    if quota > 0 and quota < 1000:
        raise InvalidArgument("CPU cfs quota can not be less than 1ms (i.e. 1000)")
    for key, what, avail in (("CpusetCpus", "cpus", facts.cpus), ("CpusetMems", "mems", facts.mems)):
        text = host.get(key) or ""
        if text:
            try:
                wanted = parse_cpuset(text)
            except InvalidArgument as exc:
                raise InvalidArgument(f"Invalid value {text} for cpuset {what}: {exc.message}") from None
            if not wanted <= avail:
                label = "CPUs" if what == "cpus" else "Memory nodes"
                raise InvalidArgument(f"Requested {label} are not available - requested {text}, "
                                      f"available: {_ranges(avail)}")
    weight = _int(host, "BlkioWeight")
    if weight:
        if not facts.blkio_weight:
            warnings.append("Your kernel does not support Block I/O weight or the cgroup is not mounted. "
                            "Weight discarded.")
        elif not 10 <= weight <= 1000:
            raise InvalidArgument("Range of blkio weight is from 10 to 1000")
    from dockyard.daemon import blkio

    warnings += blkio.validate(host, facts.blkio_devices)
    if _int(host, "ShmSize") < 0:
        raise InvalidArgument("SHM size can not be less than 0")
    for rule in host.get("DeviceCgroupRules") or ():
        device_rule(rule)
    rlimits(host)
    from dockyard.daemon.logconfig import settings

    settings(host)  # the log driver and its options
    return warnings


def adapt(host: dict[str, Any]) -> dict[str, Any]:
    """Docker's create-time defaults, as inspect shows them."""
    mem = host.get("Memory") or 0
    if mem > 0 and not host.get("MemorySwap"):
        host["MemorySwap"] = mem * 2
    if not host.get("ShmSize"):
        host["ShmSize"] = DEFAULT_SHM_SIZE
    log = host.get("LogConfig")
    if isinstance(log, dict) and not log.get("Type"):
        host["LogConfig"] = {"Type": "json-file", "Config": log.get("Config") or {}}
    from dockyard.daemon.blkio import discard_unsupported

    facts = HostFacts.probe()  # what create warned about (from the request's HostConfig) is stored emptied
    discard_unsupported(host, facts.blkio_devices, facts.blkio_weight)
    return host


def spec_resources(host: Mapping[str, Any], facts: HostFacts, base: oci.Resources) -> oci.Resources:
    """The cgroup limits of ``host`` on top of ``base`` (which carries the device rules)."""
    nano = _int(host, "NanoCpus")
    quota = nano * CPU_PERIOD // 10**9 if nano else _int(host, "CpuQuota") or None
    period = CPU_PERIOD if nano else _int(host, "CpuPeriod") or None
    mem = _int(host, "Memory") or None
    swap = _int(host, "MemorySwap") or None
    pids = host.get("PidsLimit")
    return replace(
        base,
        memory_limit=mem,
        memory_swap=swap if mem and facts.swap_limit else None,
        memory_reservation=_int(host, "MemoryReservation") or None,
        disable_oom_killer=True if host.get("OomKillDisable") and not facts.cgroup_v2 else None,
        pids_limit=pids if isinstance(pids, int) and pids != 0 else None,
        cpu_shares=_int(host, "CpuShares") or None,
        cpu_quota=quota, cpu_period=period,
        cpuset_cpus=host.get("CpusetCpus") or None, cpuset_mems=host.get("CpusetMems") or None,
        blkio_weight=(_int(host, "BlkioWeight") or None) if facts.blkio_weight else None,
        devices=base.devices + tuple(device_rule(r) for r in host.get("DeviceCgroupRules") or ()),
    )


def device_rule(text: str) -> oci.DeviceRule:
    """``--device-cgroup-rule 'c 1:3 rwm'`` → an allow rule."""
    m = _RULE.match(text.strip()) if isinstance(text, str) else None
    if m is None:
        raise InvalidArgument(f"invalid device cgroup format '{text}'")
    kind, major, minor, access = m.groups()
    return oci.DeviceRule(True, kind, None if major == "*" else int(major),
                          None if minor == "*" else int(minor), access)


_ULIMITS = ("core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc",
            "rss", "rtprio", "rttime", "sigpending", "stack", "as")


def rlimits(host: Mapping[str, Any]) -> tuple[oci.Rlimit, ...]:
    out = []
    for u in host.get("Ulimits") or ():
        name = u.get("Name") if isinstance(u, dict) else None
        if name not in _ULIMITS:
            raise InvalidArgument(f"invalid ulimit type: {name}")
        soft, hard = int(u.get("Soft", 0)), int(u.get("Hard", 0))
        if soft > hard:
            raise InvalidArgument(f"ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}")
        out.append(oci.Rlimit(f"RLIMIT_{name.upper()}", soft, hard))
    return tuple(out)


StatFn = Callable[[str], os.stat_result]


def host_devices(host: Mapping[str, Any], stat: StatFn = os.stat) -> tuple[tuple[oci.Device, ...],
                                                                        tuple[oci.DeviceRule, ...]]:
    """``HostConfig.Devices`` → nodes to create and the rules that open them (at start, as moby)."""
    nodes: list[oci.Device] = []
    rules: list[oci.DeviceRule] = []
    for d in host.get("Devices") or ():
        src = d.get("PathOnHost", "")
        dst = d.get("PathInContainer") or src
        perms = d.get("CgroupPermissions") or "rwm"
        try:
            st = stat(src)
        except OSError as exc:
            raise NotFound(f"error gathering device information while adding custom device \"{src}\": "
                           f"{(exc.strerror or str(exc)).lower()}") from None
        if stat_mod.S_ISCHR(st.st_mode):
            kind = "c"
        elif stat_mod.S_ISBLK(st.st_mode):
            kind = "b"
        else:
            raise InvalidArgument(f"error gathering device information while adding custom device \"{src}\": "
                                  "not a device node")
        major, minor = os.major(st.st_rdev), os.minor(st.st_rdev)
        nodes.append(oci.Device(dst, kind, major, minor, stat_mod.S_IMODE(st.st_mode), st.st_uid, st.st_gid))
        rules.append(oci.DeviceRule(True, kind, major, minor, perms))
    return tuple(nodes), tuple(rules)


def with_resources(spec: oci.Spec, host: Mapping[str, Any], facts: HostFacts | None = None,
                   stat: StatFn = os.stat) -> oci.Spec:
    """The spec from specgen with the container's limits, rlimits, shm size and devices."""
    facts = facts or HostFacts.probe()
    privileged = bool(host.get("Privileged"))
    nodes, rules = ((), ()) if privileged else host_devices(host, stat)
    res = spec_resources(host, facts, spec.linux.resources)
    from dockyard.daemon.blkio import resolve

    res = replace(res, devices=res.devices + rules, **resolve(host, facts.blkio_devices, stat))
    shm = _int(host, "ShmSize") or DEFAULT_SHM_SIZE
    mounts = tuple(replace(m, options=tuple(f"size={shm}" if o.startswith("size=") else o for o in m.options))
                   if m.destination == "/dev/shm" and m.type == "tmpfs" else m for m in spec.mounts)
    limits = rlimits(host)
    process = replace(spec.process, rlimits=spec.process.rlimits + limits) if limits else spec.process
    from dockyard.daemon.logconfig import annotate

    return annotate(replace(spec, process=process, mounts=mounts,  # + the log driver's settings
                            linux=replace(spec.linux, resources=res, devices=spec.linux.devices + nodes)), host)


def update_resources(changed: Mapping[str, Any], host: Mapping[str, Any],
                     facts: HostFacts | None = None) -> oci.Resources:
    """``POST /containers/{id}/update``: the limits to write to the live cgroup — only those
    the request names (NanoCpus brings its period; a new Memory keeps the recorded swap ratio
    only when MemorySwap is given too)."""
    facts = facts or HostFacts.probe()
    full = spec_resources(host, facts, oci.Resources())
    keep: dict[str, Any] = {}
    if "Memory" in changed:
        keep["memory_limit"] = full.memory_limit or -1
    if "MemorySwap" in changed:
        keep["memory_swap"] = full.memory_swap or -1
    if "MemoryReservation" in changed:
        keep["memory_reservation"] = full.memory_reservation or -1
    if "PidsLimit" in changed:
        keep["pids_limit"] = changed["PidsLimit"]
    if "CpuShares" in changed:
        keep["cpu_shares"] = full.cpu_shares
    if {"NanoCpus", "CpuQuota", "CpuPeriod"} & changed.keys():
        keep["cpu_quota"], keep["cpu_period"] = full.cpu_quota or -1, full.cpu_period
    if "BlkioWeight" in changed:
        keep["blkio_weight"] = full.blkio_weight
    if "CpusetCpus" in changed:
        keep["cpuset_cpus"] = full.cpuset_cpus
    if "CpusetMems" in changed:
        keep["cpuset_mems"] = full.cpuset_mems
    return oci.Resources(**keep)
