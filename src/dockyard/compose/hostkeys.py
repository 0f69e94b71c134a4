"""Service keys that map one to one onto ``HostConfig`` fields, and the keys we do not support (pure).

``translate.create_body`` covers the common keys; this adds resources,
ulimits, logging and devices. Keys the Compose Specification has
but dockyard compose cannot honour are named in a warning at load
(``unsupported``), never silently dropped.
"""

from __future__ import annotations

from typing import Any

from .schema import ComposeInvalid

# Keys the spec defines that have no effect here (swarm-only, Windows-only or not implemented).
# (ipc/pid/uts/cgroup_parent/runtime/storage_opt/oom_score_adj: dockyardd has no HostConfig field for them yet.)
UNSUPPORTED = ("annotations", "attach", "blkio_config", "cgroup", "cgroup_parent", "cpu_count", "cpu_percent",
               "cpu_rt_period", "cpu_rt_runtime", "credential_spec", "develop", "device_cgroup_rules",
               "external_links", "ipc", "isolation", "links", "mem_swappiness", "oom_score_adj", "pid",
               "platform", "runtime", "storage_opt", "uts", "volumes_from")

_MODES = (("userns_mode", "UsernsMode"), ("cpuset", "CpusetCpus"))
_INTS = (("cpu_shares", "CpuShares"), ("cpu_period", "CpuPeriod"), ("cpu_quota", "CpuQuota"))
_SIZES = (("mem_reservation", "MemoryReservation"), ("memswap_limit", "MemorySwap"))


def ulimits(value: dict[str, Any]) -> list[dict[str, Any]]:
    """``nofile: 1024`` or ``nofile: {soft, hard}`` → Engine API Ulimits."""
    out = []
    for name, v in value.items():
        if isinstance(v, dict):
            out.append({"Name": name, "Soft": int(v["soft"]), "Hard": int(v["hard"])})
        else:
            out.append({"Name": name, "Soft": int(v), "Hard": int(v)})
    return out


def device(spec: Any) -> dict[str, str]:
    if isinstance(spec, dict):
        return {"PathOnHost": spec["source"], "PathInContainer": spec.get("target") or spec["source"],
                "CgroupPermissions": spec.get("permissions", "rwm")}
    parts = str(spec).split(":")
    if len(parts) > 3:
        raise ComposeInvalid(f"invalid device {spec!r}")
    return {"PathOnHost": parts[0], "PathInContainer": parts[1] if len(parts) > 1 else parts[0],
            "CgroupPermissions": parts[2] if len(parts) > 2 else "rwm"}


def host_fields(svc: dict[str, Any], memory: Any) -> dict[str, Any]:
    """The HostConfig fields of these keys (``memory``: translate's size parser)."""
    host: dict[str, Any] = {}
    for key, api in _MODES:
        if svc.get(key):
            host[api] = str(svc[key])
    for key, api in _INTS:
        if svc.get(key) is not None:
            host[api] = int(svc[key])
    for key, api in _SIZES:
        if svc.get(key) is not None:
            host[api] = -1 if str(svc[key]) == "-1" else memory(svc[key])
    if "oom_kill_disable" in svc:
        host["OomKillDisable"] = bool(svc["oom_kill_disable"])
    if svc.get("ulimits"):
        host["Ulimits"] = ulimits(svc["ulimits"])
    if svc.get("devices"):
        host["Devices"] = [device(d) for d in svc["devices"]]
    log = svc.get("logging")
    if log:
        host["LogConfig"] = {"Type": log.get("driver") or "", "Config": {k: str(v) for k, v in
                                                                          (log.get("options") or {}).items()}}
    return host


def unsupported(model: dict[str, Any]) -> list[str]:
    """One warning per service key that has no effect here."""
    out = []
    for name, svc in model["services"].items():
        for key in UNSUPPORTED:
            if key in svc:
                out.append(f"services.{name}: `{key}` is not supported by dockyard compose and is ignored")
    return out
