"""``run``/``create`` resource flags → HostConfig fields (pure, stdlib only).

Follows the docker CLI: sizes through ``units.RAMInBytes`` (binary units),
``--cpus`` as NanoCpus, ``--ulimit name=soft[:hard]``, ``--device
host[:container][:perms]`` and ``--device-cgroup-rule`` checked before the
request (its messages).  The daemon validates the values (daemon/resources.py).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

# Compiled on first use: importing ``re`` costs ``dockyard run`` ~5 ms at start-up.
_PATTERNS = {
    "size": r"^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$",
    "rule": r"^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$",
    "duration": r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)",
}
_compiled: dict[str, Any] = {}
_UNITS = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
_ULIMITS = ("core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc",
            "rss", "rtprio", "rttime", "sigpending", "stack", "as")


class ResourceSpecError(ValueError):
    pass


def _pattern(name: str) -> Any:
    compiled = _compiled.get(name)
    if compiled is None:
        import re

        compiled = _compiled[name] = re.compile(_PATTERNS[name])
    return compiled


def _is_perms(text: str) -> bool:
    """``[rwm]{1,3}``, without ``re``."""
    return 1 <= len(text) <= 3 and set(text) <= {"r", "w", "m"}


def ram_in_bytes(text: str) -> int:
    m = _pattern("size").match(text.strip())
    if m is None:
        raise ValueError(f"invalid size: '{text}'")
    return int(float(m.group(1)) * _UNITS.get((m.group(2) or "").lower(), 1))


def _flag_size(flag: str, text: str) -> int:
    try:
        return ram_in_bytes(text)
    except ValueError as exc:
        raise ResourceSpecError(f"invalid argument \"{text}\" for \"{flag}\" flag: {exc}") from None


def parse_cpus(text: str) -> int:
    try:
        value = float(text)
    except ValueError:
        raise ResourceSpecError(f"invalid argument \"{text}\" for \"--cpus\" flag: failed to parse {text} "
                                "as a rational number") from None
    return int(round(value * 1e9))


def parse_ulimit(text: str) -> dict[str, Any]:
    name, sep, values = text.partition("=")
    bad = f"invalid argument \"{text}\" for \"--ulimit\" flag: "
    if not sep:
        raise ResourceSpecError(bad + f"invalid ulimit argument: {text}")
    if name not in _ULIMITS:
        raise ResourceSpecError(bad + f"invalid ulimit type: {name}")
    soft_s, _, hard_s = values.partition(":")
    try:
        soft = int(soft_s)
        hard = int(hard_s) if hard_s else soft
    except ValueError:
        raise ResourceSpecError(bad + f"invalid ulimit argument: {text}") from None
    if soft > hard:
        raise ResourceSpecError(bad + f"ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}")
    return {"Name": name, "Soft": soft, "Hard": hard}


def parse_device(text: str) -> dict[str, str]:
    parts = text.split(":")
    src, dst, perms = parts[0], "", "rwm"
    if len(parts) == 2:
        if _is_perms(parts[1]):
            perms = parts[1]
        else:
            dst = parts[1]
    elif len(parts) == 3:
        dst, perms = parts[1], parts[2]
    elif len(parts) > 3:
        raise ResourceSpecError(f"invalid argument \"{text}\" for \"--device\" flag: bad format for path: {text}")
    if not _is_perms(perms):
        raise ResourceSpecError(f"invalid argument \"{text}\" for \"--device\" flag: bad mode specified: {perms}")
    return {"PathOnHost": src, "PathInContainer": dst or src, "CgroupPermissions": perms}


_THROTTLES = {"--device-read-bps": "BlkioDeviceReadBps", "--device-write-bps": "BlkioDeviceWriteBps",
              "--device-read-iops": "BlkioDeviceReadIOps", "--device-write-iops": "BlkioDeviceWriteIOps"}


def _device_value(flag: str, text: str) -> tuple[str, str]:
    path, sep, value = text.partition(":")
    bad = f"invalid argument \"{text}\" for \"{flag}\" flag: "
    if not sep:
        raise ResourceSpecError(bad + f"bad format: {text}")
    if not path.startswith("/dev/"):
        raise ResourceSpecError(bad + f"bad format for device path: {text}")
    return path, value


def parse_throttle(flag: str, text: str) -> dict[str, Any]:
    """docker's ``ValidateThrottle{Bps,IOps}Device``: ``/dev/x:rate`` (bps takes a size suffix)."""
    path, value = _device_value(flag, text)
    try:
        rate = ram_in_bytes(value) if flag.endswith("bps") else int(value, 10)
        if rate < 0 or not value.strip()[:1].isdigit():
            raise ValueError(value)
    except ValueError:
        tail = ("<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb"
                if flag.endswith("bps") else "<number>. Number must be a positive integer")
        raise ResourceSpecError(f"invalid argument \"{text}\" for \"{flag}\" flag: invalid rate for device: "
                                f"{text}. The correct format is <device-path>:{tail}") from None
    return {"Path": path, "Rate": rate}


def parse_weight_device(text: str) -> dict[str, Any]:
    """docker's ``ValidateWeightDevice``: ``/dev/x:weight``, weight 0 or 10-1000."""
    path, value = _device_value("--blkio-weight-device", text)
    weight = int(value) if value.isdigit() else -1
    if weight < 0 or weight > 65535 or (weight and not 10 <= weight <= 1000):
        raise ResourceSpecError(f"invalid argument \"{text}\" for \"--blkio-weight-device\" flag: "
                                f"invalid weight for device: {text}")
    return {"Path": path, "Weight": weight}


def add_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("-m", "--memory", default=None)
    p.add_argument("--memory-swap", default=None)
    p.add_argument("--memory-reservation", default=None)
    p.add_argument("--memory-swappiness", type=int, default=None)
    p.add_argument("--kernel-memory", default=None)
    p.add_argument("--oom-kill-disable", action="store_true")
    p.add_argument("--cpus", default=None)
    p.add_argument("-c", "--cpu-shares", type=int, default=None)
    p.add_argument("--cpu-period", type=int, default=None)
    p.add_argument("--cpu-quota", type=int, default=None)
    p.add_argument("--cpuset-cpus", default=None)
    p.add_argument("--cpuset-mems", default=None)
    p.add_argument("--pids-limit", type=int, default=None)
    p.add_argument("--blkio-weight", type=int, default=None)
    p.add_argument("--blkio-weight-device", action="append", default=[])
    for flag in _THROTTLES:
        p.add_argument(flag, action="append", default=[])
    p.add_argument("--ulimit", action="append", default=[])
    p.add_argument("--shm-size", default=None)
    p.add_argument("--device", action="append", default=[])
    p.add_argument("--device-cgroup-rule", action="append", default=[])
    p.add_argument("--restart", default=None)
    p.add_argument("--log-driver", default=None)
    p.add_argument("--health-cmd", default=None)
    p.add_argument("--health-interval", default=None)
    p.add_argument("--health-timeout", default=None)
    p.add_argument("--health-start-period", default=None)
    p.add_argument("--health-start-interval", default=None)
    p.add_argument("--health-retries", type=int, default=None)
    p.add_argument("--no-healthcheck", action="store_true")
    p.add_argument("--log-opt", action="append", default=[])


def apply_args(body: dict[str, Any], args: argparse.Namespace) -> None:
    """Fill ``body["HostConfig"]`` from the parsed flags (only those given)."""
    host = body.setdefault("HostConfig", {})
    for flag, key in (("memory", "Memory"), ("memory_reservation", "MemoryReservation"),
                      ("kernel_memory", "KernelMemory"), ("shm_size", "ShmSize")):
        value = getattr(args, flag)
        if value is not None:
            host[key] = _flag_size("--" + flag.replace("_", "-"), value)
    if args.memory_swap is not None:
        host["MemorySwap"] = -1 if args.memory_swap == "-1" else _flag_size("--memory-swap", args.memory_swap)
    if args.memory_swappiness is not None:
        if args.memory_swappiness != -1 and not 0 <= args.memory_swappiness <= 100:
            raise ResourceSpecError(f"invalid value: {args.memory_swappiness}. Valid memory swappiness range is 0-100")
        host["MemorySwappiness"] = args.memory_swappiness
    if args.oom_kill_disable:
        host["OomKillDisable"] = True
    if args.cpus is not None:
        host["NanoCpus"] = parse_cpus(args.cpus)
    for flag, key in (("cpu_shares", "CpuShares"), ("cpu_period", "CpuPeriod"), ("cpu_quota", "CpuQuota"),
                      ("pids_limit", "PidsLimit"), ("blkio_weight", "BlkioWeight"),
                      ("cpuset_cpus", "CpusetCpus"), ("cpuset_mems", "CpusetMems")):
        value = getattr(args, flag)
        if value is not None:
            host[key] = value
    if args.blkio_weight_device:
        host["BlkioWeightDevice"] = [parse_weight_device(v) for v in args.blkio_weight_device]
    for flag, key in _THROTTLES.items():
        values = getattr(args, flag[2:].replace("-", "_"))
        if values:
            host[key] = [parse_throttle(flag, v) for v in values]
    if args.ulimit:
        host["Ulimits"] = [parse_ulimit(u) for u in args.ulimit]
    if args.device:
        host["Devices"] = [parse_device(d) for d in args.device]
    for rule in args.device_cgroup_rule:
        if not _pattern("rule").match(rule):
            raise ResourceSpecError(f"invalid argument \"{rule}\" for \"--device-cgroup-rule\" flag: "
                                    f"invalid device cgroup format '{rule}'")
    if args.device_cgroup_rule:
        host["DeviceCgroupRules"] = list(args.device_cgroup_rule)
    if args.log_driver or args.log_opt:
        opts = {}
        for opt in args.log_opt:
            key, sep, value = opt.partition("=")
            if not sep:
                raise ResourceSpecError(f"invalid argument \"{opt}\" for \"--log-opt\" flag: "
                                        f"invalid key value pair format: {opt}")
            opts[key] = value
        host["LogConfig"] = {"Type": args.log_driver or "", "Config": opts}
    healthcheck(body, args)
    if args.restart:
        host["RestartPolicy"] = restart_policy(args.restart)
        if host["RestartPolicy"]["Name"] not in ("", "no") and host.get("AutoRemove"):
            raise ResourceSpecError("Conflicting options: --restart and --rm")


def restart_policy(text: str) -> dict[str, Any]:
    """docker ``opts.ParseRestartPolicy``: ``name[:max-retries]``."""
    name, sep, count = text.partition(":")
    if sep and name != "on-failure":
        raise ResourceSpecError(f"invalid restart policy format: maximum retry count can only be used with "
                                f"'on-failure'")
    try:
        retries = int(count) if sep else 0
    except ValueError:
        raise ResourceSpecError(f"invalid restart policy format: maximum retry count must be an integer") from None
    return {"Name": name, "MaximumRetryCount": retries}


_NS = {"ns": 1, "us": 10**3, "µs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}


def parse_duration(flag: str, text: str) -> int:
    """Go's time.ParseDuration ("1m30s", "500ms") → ns."""
    pos, total = 0, 0.0
    for m in _pattern("duration").finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _NS[m.group(2)]
        pos = m.end()
    if not text or pos != len(text):
        raise ResourceSpecError(f"invalid argument \"{text}\" for \"{flag}\" flag: time: invalid duration "
                                f"\"{text}\"")
    return int(total)


def healthcheck(body: dict[str, Any], args: argparse.Namespace) -> None:
    """The docker CLI's Healthcheck from ``--health-*`` / ``--no-healthcheck`` (top-level Config)."""
    durations = {"Interval": args.health_interval, "Timeout": args.health_timeout,
                 "StartPeriod": args.health_start_period, "StartInterval": args.health_start_interval}
    given = args.health_cmd is not None or args.health_retries is not None or any(durations.values())
    if args.no_healthcheck:
        if given:
            raise ResourceSpecError("--no-healthcheck conflicts with --health-* options")
        body["Healthcheck"] = {"Test": ["NONE"]}
        return
    if not given:
        return
    hc: dict[str, Any] = {}
    if args.health_cmd is not None:
        hc["Test"] = ["CMD-SHELL", args.health_cmd] if args.health_cmd else []
    for key, value in durations.items():
        if value:
            flag = "--health-" + "".join("-" + c.lower() if c.isupper() and i else c.lower()
                                         for i, c in enumerate(key))
            hc[key] = parse_duration(flag, value)
    if args.health_retries is not None:
        if args.health_retries < 0:
            raise ResourceSpecError("--health-retries cannot be negative")
        hc["Retries"] = args.health_retries
    body["Healthcheck"] = hc
