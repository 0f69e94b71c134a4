"""Every spec check that can run before the first side effect (youki's init_builder rule).

``validate(spec)`` raises ``InvalidArgument`` listing the first problem; the
runtime calls it in ``ShimRuntime.create`` before any directory, cgroup or
process exists, so a bad spec leaves nothing behind.
"""

from __future__ import annotations

import posixpath
import resource
import re

from dockyard.errors import InvalidArgument
from dockyard.runtime import capabilities
from dockyard.runtime.seccomp import validate as seccomp_rules
from dockyard.oci.runtime import NS_CGROUP, NS_IPC, NS_MOUNT, NS_NETWORK, NS_PID, NS_USER, NS_UTS, Spec

KNOWN_NAMESPACES = {NS_PID, NS_NETWORK, NS_MOUNT, NS_IPC, NS_UTS, NS_USER, NS_CGROUP}
SUPPORTED_PROPAGATION = {"", "private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable"}
_HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$")


def rlimit_number(name: str) -> int:
    """"RLIMIT_NOFILE" -> resource.RLIMIT_NOFILE; InvalidArgument if unknown."""
    value = getattr(resource, name, None) if name.startswith("RLIMIT_") else None
    if not isinstance(value, int):
        raise InvalidArgument(f"unknown rlimit type {name!r}")
    return value


def validate(spec: Spec) -> None:
    p = spec.process
    if not p.args or not p.args[0]:
        raise InvalidArgument("process.args must not be empty")
    if not posixpath.isabs(p.cwd):
        raise InvalidArgument(f"process.cwd must be absolute: {p.cwd!r}")
    for e in p.env:
        if "=" not in e:
            raise InvalidArgument(f"process.env entry without '=': {e!r}")
    if p.user.uid < 0 or p.user.gid < 0 or any(g < 0 for g in p.user.additional_gids):
        raise InvalidArgument("process.user ids must be non-negative")
    for r in p.rlimits:
        rlimit_number(r.type)
        if r.soft > r.hard:
            raise InvalidArgument(f"{r.type}: soft limit {r.soft} above hard limit {r.hard}")
    if not spec.root.path:
        raise InvalidArgument("root.path must be set")

    types = [n.type for n in spec.linux.namespaces]
    for t in types:
        if t not in KNOWN_NAMESPACES:
            raise InvalidArgument(f"unknown namespace type {t!r}")
    if len(set(types)) != len(types):
        raise InvalidArgument("namespace listed twice")
    _validate_userns(spec, NS_USER in types)
    if NS_MOUNT not in types or any(n.type == NS_MOUNT and n.path for n in spec.linux.namespaces):
        # rootfs mounts must vanish with the container: they need a fresh mount ns.
        raise InvalidArgument("a new mount namespace is required")
    if spec.hostname and NS_UTS not in types:
        raise InvalidArgument("hostname requires a new uts namespace")
    if spec.hostname and not _HOSTNAME.match(spec.hostname):
        raise InvalidArgument(f"invalid hostname {spec.hostname!r}")
    if spec.linux.rootfs_propagation not in SUPPORTED_PROPAGATION:
        raise InvalidArgument(f"unsupported rootfs propagation {spec.linux.rootfs_propagation!r}")

    for m in spec.mounts:
        if not posixpath.isabs(m.destination):
            raise InvalidArgument(f"mount destination must be absolute: {m.destination!r}")
        if m.type in (None, "bind") and not m.source:
            raise InvalidArgument(f"bind mount to {m.destination} has no source")
    for path in (*spec.linux.masked_paths, *spec.linux.readonly_paths):
        if not posixpath.isabs(path):
            raise InvalidArgument(f"masked/readonly path must be absolute: {path!r}")
    cg = spec.linux.cgroups_path
    if cg and (not cg.startswith("/") or ".." in cg.split("/")):
        raise InvalidArgument(f"cgroups path must be absolute without '..': {cg!r}")
    res = spec.linux.resources
    for name, value in (("memory limit", res.memory_limit), ("pids limit", res.pids_limit),
                        ("cpu shares", res.cpu_shares)):
        if value is not None and value < -1:
            raise InvalidArgument(f"invalid {name} {value}")
    _validate_security(spec, set(types))


def _validate_security(spec: Spec, namespaces: set[str]) -> None:
    """Capabilities, seccomp, sysctls, devices (runc's validator, in its words where it has them)."""
    if spec.process.capabilities is not None:
        capabilities.validate(spec.process.capabilities)
    if spec.linux.seccomp is not None:
        seccomp_rules(spec.linux.seccomp)
    for key in spec.linux.sysctl:
        if not _SYSCTL_KEY.match(key):  # "net.x/../../sysrq-trigger" must not walk out of /proc/sys
            raise InvalidArgument(f"invalid sysctl key {key!r}")
        owner = _sysctl_namespace(key)
        if owner is None:
            raise InvalidArgument(f"sysctl {key!r} is not in a separate kernel namespace")
        if owner not in namespaces or any(n.type == owner and n.path for n in spec.linux.namespaces):
            raise InvalidArgument(f"sysctl {key!r} is not allowed in the host's {owner} namespace")
        if owner == NS_UTS and spec.hostname:
            raise InvalidArgument(f"sysctl {key!r} is not allowed as it conflicts with the OCI hostname field")
    for d in spec.linux.devices:
        if d.type not in ("c", "b", "u", "p") or not posixpath.isabs(d.path) or ".." in d.path.split("/"):
            raise InvalidArgument(f"invalid device {d.path!r} of type {d.type!r}")
    for rule in spec.linux.resources.devices:
        if rule.type not in ("a", "c", "b") or not rule.access or set(rule.access) - set("rwm"):
            raise InvalidArgument(f"invalid device cgroup rule {rule}")


def _validate_userns(spec: Spec, wanted: bool) -> None:
    """A new user ns needs both maps, each mapping container root (runc's messages)."""
    lx = spec.linux
    if not wanted:
        if lx.uid_mappings or lx.gid_mappings:
            raise InvalidArgument("user namespaces need to be enabled to use uid/gid mappings")
        return
    if any(n.type == NS_USER and n.path for n in lx.namespaces):
        raise InvalidArgument("joining an existing user namespace is not supported")
    if not lx.uid_mappings or not lx.gid_mappings:
        raise InvalidArgument("user namespaces enabled, but no uid/gid mappings found")
    for what, maps in (("uid", lx.uid_mappings), ("gid", lx.gid_mappings)):
        if len(maps) > 340 or any(m.size <= 0 or m.container_id < 0 or m.host_id < 0 for m in maps):
            raise InvalidArgument(f"invalid {what} mappings")
        if not any(m.container_id == 0 for m in maps):
            raise InvalidArgument(f"{what} mappings do not map the container's root")


_SYSCTL_KEY = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$")
_IPC_SYSCTLS = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
                "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"}


def _sysctl_namespace(key: str) -> str | None:
    if key in _IPC_SYSCTLS or key.startswith("fs.mqueue."):
        return NS_IPC
    if key.startswith("net."):
        return NS_NETWORK
    if key in ("kernel.hostname", "kernel.domainname"):
        return NS_UTS
    return None
