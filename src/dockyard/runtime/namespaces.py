"""Spec namespaces -> setns (join by path) or unshare (create), in a fixed order.

Joins happen first, mount namespace last among them: once we setns into
another mount namespace the other ``path``s may no longer resolve.  Every
namespace without a path is created with one unshare(2).  ``CLONE_NEWPID``
only affects *children* of the caller, which is why the shim's intermediate
process unshares and then forks the real init (pid 1).
"""

from __future__ import annotations

from dockyard.oci.runtime import NS_CGROUP, NS_IPC, NS_MOUNT, NS_NETWORK, NS_PID, NS_USER, NS_UTS, Spec
from dockyard.runtime.sys.syscalls import CloneFlag, Syscalls

FLAGS: dict[str, CloneFlag] = {
    NS_USER: CloneFlag.NEWUSER,
    NS_IPC: CloneFlag.NEWIPC,
    NS_UTS: CloneFlag.NEWUTS,
    NS_NETWORK: CloneFlag.NEWNET,
    NS_PID: CloneFlag.NEWPID,
    NS_CGROUP: CloneFlag.NEWCGROUP,
    NS_MOUNT: CloneFlag.NEWNS,
}
JOIN_ORDER = (NS_USER, NS_IPC, NS_UTS, NS_NETWORK, NS_PID, NS_CGROUP, NS_MOUNT)


def plan(spec: Spec) -> tuple[list[tuple[str, CloneFlag]], CloneFlag]:
    """(namespaces to join as (path, flag) in JOIN_ORDER, flags to unshare)."""
    by_type = {n.type: n for n in spec.linux.namespaces}
    joins = [(by_type[t].path or "", FLAGS[t]) for t in JOIN_ORDER if t in by_type and by_type[t].path]
    new = CloneFlag(0)
    for n in spec.linux.namespaces:
        if not n.path:
            new |= FLAGS[n.type]
    return joins, new


def enter(sys: Syscalls, spec: Spec) -> None:
    joins, new = plan(spec)
    for path, flag in joins:
        sys.setns(path, flag)
    if new:
        sys.unshare(new)


def has_new(spec: Spec, ns_type: str) -> bool:
    return any(n.type == ns_type and not n.path for n in spec.linux.namespaces)
