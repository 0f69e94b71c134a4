"""The subset of the OCI runtime spec (config.json) that Dockyard produces.

Field names follow https://github.com/opencontainers/runtime-spec/blob/main/config.md;
``to_json``/``from_json`` convert to and from the exact JSON shape, so a
bundle written here can also be run by runc/crun.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

OCI_VERSION = "1.1.0"

# Namespace type names as the spec spells them.
NS_PID = "pid"
NS_NETWORK = "network"
NS_MOUNT = "mount"
NS_IPC = "ipc"
NS_UTS = "uts"
NS_USER = "user"
NS_CGROUP = "cgroup"


@dataclass(frozen=True, slots=True)
class User:
    uid: int = 0
    gid: int = 0
    additional_gids: tuple[int, ...] = ()
    umask: int | None = None


@dataclass(frozen=True, slots=True)
class Rlimit:
    type: str  # "RLIMIT_NOFILE"
    soft: int
    hard: int


@dataclass(frozen=True, slots=True)
class Capabilities:
    """process.capabilities: sets of "CAP_*" names. ``None`` (no object) means
    the runtime leaves the capabilities it runs with untouched."""

    bounding: tuple[str, ...] = ()
    effective: tuple[str, ...] = ()
    inheritable: tuple[str, ...] = ()
    permitted: tuple[str, ...] = ()
    ambient: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Process:
    args: tuple[str, ...]
    env: tuple[str, ...] = ()
    cwd: str = "/"
    user: User = field(default_factory=User)
    terminal: bool = False
    no_new_privileges: bool = False
    rlimits: tuple[Rlimit, ...] = ()
    capabilities: Capabilities | None = None


@dataclass(frozen=True, slots=True)
class Root:
    path: str = "rootfs"
    readonly: bool = False


@dataclass(frozen=True, slots=True)
class Mount:
    destination: str
    type: str | None = None
    source: str | None = None
    options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Namespace:
    type: str
    path: str | None = None  # join this namespace instead of creating one


@dataclass(frozen=True, slots=True)
class IdMapping:
    """linux.uidMappings[] / gidMappings[]: container ids [container_id, +size) are host ids from host_id."""

    container_id: int
    host_id: int
    size: int


@dataclass(frozen=True, slots=True)
class DeviceRule:
    """linux.resources.devices[]: one device-cgroup allow/deny rule."""

    allow: bool
    type: str = "a"  # "a" | "c" | "b"
    major: int | None = None  # None: any ("*")
    minor: int | None = None
    access: str = "rwm"


@dataclass(frozen=True, slots=True)
class BlockDeviceValue:
    """linux.resources.blockIO weightDevice[] (value = weight) and throttle*Device[] (value = rate)."""

    major: int
    minor: int
    value: int


@dataclass(frozen=True, slots=True)
class Device:
    """linux.devices[]: a device node the runtime creates in the container's /dev."""

    path: str
    type: str  # "c" | "b" | "u" | "p"
    major: int
    minor: int
    file_mode: int | None = None
    uid: int | None = None
    gid: int | None = None


@dataclass(frozen=True, slots=True)
class SeccompArg:
    index: int
    value: int
    op: str  # "SCMP_CMP_EQ", ...
    value_two: int = 0


@dataclass(frozen=True, slots=True)
class SeccompSyscall:
    names: tuple[str, ...]
    action: str  # "SCMP_ACT_ALLOW", ...
    errno_ret: int | None = None
    args: tuple[SeccompArg, ...] = ()


@dataclass(frozen=True, slots=True)
class Seccomp:
    """linux.seccomp, already resolved for this container (no Docker includes/excludes)."""

    default_action: str
    default_errno_ret: int | None = None
    architectures: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    syscalls: tuple[SeccompSyscall, ...] = ()


@dataclass(frozen=True, slots=True)
class Resources:
    """linux.resources; empty in the skeleton, grown by the resources issue."""

    memory_limit: int | None = None
    pids_limit: int | None = None
    cpu_shares: int | None = None
    devices: tuple[DeviceRule, ...] = ()
    # grown by the resources issue (daemon/resources.py maps HostConfig to these)
    memory_reservation: int | None = None
    memory_swap: int | None = None  # memory + swap, as OCI and cgroup v1 count it; -1 unlimited
    disable_oom_killer: bool | None = None
    cpu_quota: int | None = None
    cpu_period: int | None = None
    cpuset_cpus: str | None = None
    cpuset_mems: str | None = None
    blkio_weight: int | None = None
    blkio_weight_device: tuple[BlockDeviceValue, ...] = ()
    blkio_read_bps: tuple[BlockDeviceValue, ...] = ()
    blkio_write_bps: tuple[BlockDeviceValue, ...] = ()
    blkio_read_iops: tuple[BlockDeviceValue, ...] = ()
    blkio_write_iops: tuple[BlockDeviceValue, ...] = ()


@dataclass(frozen=True, slots=True)
class Linux:
    namespaces: tuple[Namespace, ...] = ()
    cgroups_path: str = ""
    resources: Resources = field(default_factory=Resources)
    masked_paths: tuple[str, ...] = ()
    readonly_paths: tuple[str, ...] = ()
    rootfs_propagation: str = "rprivate"
    sysctl: Mapping[str, str] = field(default_factory=dict)
    seccomp: Seccomp | None = None
    devices: tuple[Device, ...] = ()
    uid_mappings: tuple[IdMapping, ...] = ()  # with a new "user" namespace
    gid_mappings: tuple[IdMapping, ...] = ()


@dataclass(frozen=True, slots=True)
class Spec:
    process: Process
    root: Root = field(default_factory=Root)
    hostname: str = ""
    domainname: str = ""
    mounts: tuple[Mount, ...] = ()
    linux: Linux = field(default_factory=Linux)
    annotations: Mapping[str, str] = field(default_factory=dict)
    oci_version: str = OCI_VERSION


# ---------------------------------------------------------------- codec

def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None and v != {} and v != []}


_BLOCK_IO = (("blkio_read_bps", "throttleReadBpsDevice", "rate"), ("blkio_write_bps", "throttleWriteBpsDevice", "rate"),
             ("blkio_read_iops", "throttleReadIOPSDevice", "rate"),
             ("blkio_write_iops", "throttleWriteIOPSDevice", "rate"), ("blkio_weight_device", "weightDevice", "weight"))


def _block_io_to_json(res: Resources) -> dict[str, Any]:
    out: dict[str, Any] = {"weight": res.blkio_weight}
    for attr, key, value in _BLOCK_IO:
        out[key] = [{"major": d.major, "minor": d.minor, value: d.value} for d in getattr(res, attr)]
    return _drop_none(out)


def _block_devices_from_json(b: Mapping[str, Any]) -> dict[str, Any]:
    return {attr: tuple(BlockDeviceValue(int(d["major"]), int(d["minor"]), int(d.get(value, 0)))
                        for d in b.get(key, ())) for attr, key, value in _BLOCK_IO}


def to_json(spec: Spec) -> dict[str, Any]:
    """Spec -> the config.json object."""
    p = spec.process
    user: dict[str, Any] = {"uid": p.user.uid, "gid": p.user.gid}
    if p.user.additional_gids:
        user["additionalGids"] = list(p.user.additional_gids)
    if p.user.umask is not None:
        user["umask"] = p.user.umask
    process = _drop_none({
        "terminal": p.terminal,
        "user": user,
        "args": list(p.args),
        "env": list(p.env),
        "cwd": p.cwd,
        "noNewPrivileges": p.no_new_privileges,
        "rlimits": [{"type": r.type, "soft": r.soft, "hard": r.hard} for r in p.rlimits],
        "capabilities": _caps_to_json(p.capabilities),
    })
    res = spec.linux.resources
    resources = _drop_none({
        "memory": _drop_none({"limit": res.memory_limit, "reservation": res.memory_reservation,
                              "swap": res.memory_swap, "disableOOMKiller": res.disable_oom_killer}) or None,
        "pids": {"limit": res.pids_limit} if res.pids_limit is not None else None,
        "cpu": _drop_none({"shares": res.cpu_shares, "quota": res.cpu_quota, "period": res.cpu_period,
                           "cpus": res.cpuset_cpus, "mems": res.cpuset_mems}) or None,
        "blockIO": _block_io_to_json(res) or None,
        "devices": [_drop_none({"allow": d.allow, "type": d.type, "major": d.major, "minor": d.minor,
                                "access": d.access}) for d in res.devices],
    })
    linux = _drop_none({
        "namespaces": [_drop_none({"type": n.type, "path": n.path}) for n in spec.linux.namespaces],
        "cgroupsPath": spec.linux.cgroups_path or None,
        "resources": resources,
        "maskedPaths": list(spec.linux.masked_paths),
        "readonlyPaths": list(spec.linux.readonly_paths),
        "rootfsPropagation": spec.linux.rootfs_propagation or None,
        "sysctl": dict(spec.linux.sysctl),
        "seccomp": seccomp_to_json(spec.linux.seccomp),
        "devices": [_drop_none({"path": d.path, "type": d.type, "major": d.major, "minor": d.minor,
                                "fileMode": d.file_mode, "uid": d.uid, "gid": d.gid})
                    for d in spec.linux.devices],
        "uidMappings": _idmaps_to_json(spec.linux.uid_mappings),
        "gidMappings": _idmaps_to_json(spec.linux.gid_mappings),
    })
    return _drop_none({
        "ociVersion": spec.oci_version,
        "process": process,
        "root": {"path": spec.root.path, "readonly": spec.root.readonly},
        "hostname": spec.hostname or None,
        "domainname": spec.domainname or None,
        "mounts": [
            _drop_none({"destination": m.destination, "type": m.type, "source": m.source,
                        "options": list(m.options) or None})
            for m in spec.mounts
        ],
        "linux": linux,
        "annotations": dict(spec.annotations),
    })


def from_json(obj: Mapping[str, Any]) -> Spec:
    """The config.json object -> Spec. Raises KeyError/TypeError on a malformed object."""
    p = obj["process"]
    u = p.get("user", {})
    process = Process(
        args=tuple(p["args"]),
        env=tuple(p.get("env", ())),
        cwd=p.get("cwd", "/"),
        user=User(uid=int(u.get("uid", 0)), gid=int(u.get("gid", 0)),
                  additional_gids=tuple(int(g) for g in u.get("additionalGids", ())),
                  umask=u.get("umask")),
        terminal=bool(p.get("terminal", False)),
        no_new_privileges=bool(p.get("noNewPrivileges", False)),
        rlimits=tuple(Rlimit(r["type"], int(r["soft"]), int(r["hard"])) for r in p.get("rlimits", ())),
        capabilities=_caps_from_json(p.get("capabilities")),
    )
    lx = obj.get("linux", {})
    r = lx.get("resources", {})
    linux = Linux(
        namespaces=tuple(Namespace(n["type"], n.get("path")) for n in lx.get("namespaces", ())),
        cgroups_path=lx.get("cgroupsPath", ""),
        resources=Resources(
            memory_limit=r.get("memory", {}).get("limit"),
            pids_limit=r.get("pids", {}).get("limit"),
            cpu_shares=r.get("cpu", {}).get("shares"),
            memory_reservation=r.get("memory", {}).get("reservation"),
            memory_swap=r.get("memory", {}).get("swap"),
            disable_oom_killer=r.get("memory", {}).get("disableOOMKiller"),
            cpu_quota=r.get("cpu", {}).get("quota"),
            cpu_period=r.get("cpu", {}).get("period"),
            cpuset_cpus=r.get("cpu", {}).get("cpus"),
            cpuset_mems=r.get("cpu", {}).get("mems"),
            blkio_weight=r.get("blockIO", {}).get("weight"),
            **_block_devices_from_json(r.get("blockIO", {})),
            devices=tuple(DeviceRule(bool(d["allow"]), d.get("type", "a"), d.get("major"), d.get("minor"),
                                     d.get("access", "rwm")) for d in r.get("devices", ())),
        ),
        masked_paths=tuple(lx.get("maskedPaths", ())),
        readonly_paths=tuple(lx.get("readonlyPaths", ())),
        rootfs_propagation=lx.get("rootfsPropagation", ""),
        sysctl=dict(lx.get("sysctl", {})),
        seccomp=_seccomp_from_json(lx.get("seccomp")),
        devices=tuple(Device(d["path"], d["type"], int(d.get("major", 0)), int(d.get("minor", 0)),
                             d.get("fileMode"), d.get("uid"), d.get("gid")) for d in lx.get("devices", ())),
        uid_mappings=_idmaps_from_json(lx.get("uidMappings")),
        gid_mappings=_idmaps_from_json(lx.get("gidMappings")),
    )
    root = obj.get("root", {})
    return Spec(
        process=process,
        root=Root(path=root.get("path", "rootfs"), readonly=bool(root.get("readonly", False))),
        hostname=obj.get("hostname", ""),
        domainname=obj.get("domainname", ""),
        mounts=tuple(Mount(m["destination"], m.get("type"), m.get("source"), tuple(m.get("options", ())))
                     for m in obj.get("mounts", ())),
        linux=linux,
        annotations=dict(obj.get("annotations", {})),
        oci_version=obj.get("ociVersion", OCI_VERSION),
    )


# ------------------------------------------------- security sub-objects

def _idmaps_to_json(maps: tuple[IdMapping, ...]) -> list[dict[str, int]]:
    return [{"containerID": m.container_id, "hostID": m.host_id, "size": m.size} for m in maps]


def _idmaps_from_json(obj: Any) -> tuple[IdMapping, ...]:
    return tuple(IdMapping(int(m["containerID"]), int(m["hostID"]), int(m["size"])) for m in obj or ())


_CAP_SETS = ("bounding", "effective", "inheritable", "permitted", "ambient")


def _caps_to_json(c: Capabilities | None) -> dict[str, list[str]] | None:
    # Every set is written, empty ones too: an absent set and an empty one differ for runc.
    return None if c is None else {name: list(getattr(c, name)) for name in _CAP_SETS}


def _caps_from_json(obj: Mapping[str, Any] | None) -> Capabilities | None:
    if obj is None:
        return None
    return Capabilities(**{name: tuple(obj.get(name) or ()) for name in _CAP_SETS})


def seccomp_to_json(s: Seccomp | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return _drop_none({
        "defaultAction": s.default_action,
        "defaultErrnoRet": s.default_errno_ret,
        "architectures": list(s.architectures),
        "flags": list(s.flags),
        "syscalls": [
            _drop_none({
                "names": list(sc.names), "action": sc.action, "errnoRet": sc.errno_ret,
                "args": [{"index": a.index, "value": a.value, "valueTwo": a.value_two, "op": a.op}
                         for a in sc.args],
            })
            for sc in s.syscalls
        ],
    })


def _seccomp_from_json(obj: Mapping[str, Any] | None) -> Seccomp | None:
    if obj is None:
        return None
    return Seccomp(
        default_action=obj["defaultAction"],
        default_errno_ret=obj.get("defaultErrnoRet"),
        architectures=tuple(obj.get("architectures") or ()),
        flags=tuple(obj.get("flags") or ()),
        syscalls=tuple(
            SeccompSyscall(
                names=tuple(sc["names"]), action=sc["action"], errno_ret=sc.get("errnoRet"),
                args=tuple(SeccompArg(int(a["index"]), int(a["value"]), a["op"], int(a.get("valueTwo", 0)))
                           for a in sc.get("args") or ()),
            )
            for sc in obj.get("syscalls") or ()
        ),
    )
