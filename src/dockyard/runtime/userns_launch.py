"""The launcher's intermediate with a new user namespace (``linux.uidMappings``).

Order, each step where it must be (proved in tests/integration/security/test_userns_*)::

    1 start_userns      a child born in a new user ns (clone(CLONE_NEWUSER)); we write its
                        maps from outside and keep /proc/<child>/ns/user as an fd (our
                        privileges intact); the child exits while steps 2-6 run, reaped after
    2 unshare(NEWNS)    a mount ns still owned by the host's user ns: mounts made here are
                        made with host privileges and are "locked" in the container's copy
    3 upper ownership   upperdir/workdir roots owned by the container's root (host id)
    4 idmapped lowers   each overlay lowerdir gets an idmapped clone of itself mounted over
                        it (MOUNT_ATTR_IDMAP, the userns fd): image files owned by 0 on disk
                        appear as the container's root; the upper dir is *not* idmapped, so
                        what the container writes lands on disk as high host ids (Docker's
                        remap semantics; copy-up chowns to the id seen through the lower)
    5 overlay rootfs    mounted here, with host privileges (the overlay mount itself cannot
                        be idmapped: EINVAL; mounting it inside the userns would lose the
                        trusted.overlay.* xattrs)
    6 setns(userns)     + setresgid/setresuid(0): we are the container's root
    7 unshare(rest)     mount (again: now owned by the userns, so the init may mount proc,
                        sysfs, tmpfs, devpts), pid, net, ipc, uts, cgroup

The init then runs its usual steps; its "rootfs" step only rebinds the mounted root.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Sequence

from dockyard.core.mount import Mount as RootfsMount
from dockyard.oci.runtime import NS_NETWORK, NS_USER, Mount, Spec
from dockyard.runtime import rootfs
from dockyard.runtime.namespaces import has_new, plan
from dockyard.runtime.sys.syscalls import CloneFlag, Syscalls
from dockyard.runtime.sys.linux import fork_into_new_userns
from dockyard.runtime.userns import start_userns, to_host


def wants_userns(spec: Spec) -> bool:
    return has_new(spec, NS_USER)


def layer_dirs(mounts: Sequence[RootfsMount]) -> tuple[list[str], list[str]]:
    """(read-only layer dirs to idmap, writable dirs to own) of the snapshot's mounts."""
    lowers: list[str] = []
    writable: list[str] = []
    for m in mounts:
        if m.type == "overlay":
            for opt in m.options:
                key, _, value = opt.partition("=")
                if key == "lowerdir":
                    lowers.extend(p for p in value.split(":") if p)
                elif key in ("upperdir", "workdir"):
                    writable.append(value)
        elif m.source and "ro" in m.options:
            lowers.append(m.source)
        elif m.source:
            writable.append(m.source)
    return lowers, writable


def adapt_spec(spec: Spec) -> Spec:
    """Mounts a user namespace cannot make: sysfs needs a network ns owned by the userns,
    so without a new one /sys is a read-only rbind of the host's (runc and Docker do this)."""
    if has_new(spec, NS_NETWORK):
        return spec
    mounts = tuple(Mount(m.destination, "bind", "/sys", ("rbind", "nosuid", "noexec", "nodev", "ro"))
                   if m.type == "sysfs" else m for m in spec.mounts)
    return dataclasses.replace(spec, mounts=mounts)


def enter(sys: Syscalls, spec: Spec, root: str, mounts: Sequence[RootfsMount]) -> None:
    """Steps 1-7 above, in the intermediate (single-threaded, host root)."""
    joins, new = plan(spec)
    for path, flag in joins:  # a joined net/ipc ns is the host's (or another container's)
        sys.setns(path, flag)
    lx = spec.linux
    fd, helper = start_userns(sys.unshare, lx.uid_mappings, lx.gid_mappings, fork_in_userns=fork_into_new_userns)
    try:
        sys.unshare(CloneFlag.NEWNS)
        rootfs.set_propagation(sys, spec)
        lowers, writable = layer_dirs(mounts)
        uid, gid = to_host(lx.uid_mappings, 0), to_host(lx.gid_mappings, 0)
        for path in writable:
            st = os.stat(path)
            if (st.st_uid, st.st_gid) == (0, 0):  # fresh: make it the container root's
                os.chown(path, uid, gid)
        for path in dict.fromkeys(lowers):
            sys.idmap_bind(path, fd)
        rootfs.mount_rootfs(sys, root, mounts)
        sys.setns(f"/proc/self/fd/{fd}", CloneFlag.NEWUSER)
    finally:
        os.close(fd)
        os.waitpid(helper, 0)  # it exited while we mounted
    sys.setresgid(0)
    sys.setresuid(0)
    sys.unshare(new & ~CloneFlag.NEWUSER | CloneFlag.NEWNS)
