"""Rootfs preparation inside the container's new mount namespace, before pivot_root.

Every container path is resolved with ``paths.resolve_in_root`` so a symlink
in the image (``/etc -> /host/etc``) cannot send a mount outside the rootfs.
Mount options are fstab style; flag words become mount(2) flags and the rest
is passed as data.
"""

from __future__ import annotations

import os
import posixpath
import stat
from typing import Sequence

from dockyard.core.mount import Mount as RootfsMount
from dockyard.oci.runtime import Mount, Spec
from dockyard.runtime import mounttarget
from dockyard.runtime.paths import resolve_in_root
from dockyard.runtime.sys.syscalls import MNT_DETACH, MountFlag, Syscalls

F = MountFlag
# option -> (flags to set, flags to clear)
_FLAG_OPTIONS: dict[str, tuple[MountFlag, MountFlag]] = {
    "ro": (F.RDONLY, F.NONE), "rw": (F.NONE, F.RDONLY),
    "nosuid": (F.NOSUID, F.NONE), "suid": (F.NONE, F.NOSUID),
    "nodev": (F.NODEV, F.NONE), "dev": (F.NONE, F.NODEV),
    "noexec": (F.NOEXEC, F.NONE), "exec": (F.NONE, F.NOEXEC),
    "sync": (F.SYNCHRONOUS, F.NONE), "async": (F.NONE, F.SYNCHRONOUS),
    "noatime": (F.NOATIME, F.NONE), "nodiratime": (F.NODIRATIME, F.NONE),
    "relatime": (F.RELATIME, F.NONE), "strictatime": (F.STRICTATIME, F.NONE),
    "bind": (F.BIND, F.NONE), "rbind": (F.BIND | F.REC, F.NONE),
}
_PROPAGATION: dict[str, MountFlag] = {
    "private": F.PRIVATE, "rprivate": F.PRIVATE | F.REC, "slave": F.SLAVE, "rslave": F.SLAVE | F.REC,
    "shared": F.SHARED, "rshared": F.SHARED | F.REC, "unbindable": F.UNBINDABLE,
    "runbindable": F.UNBINDABLE | F.REC,
}
# name -> (major, minor); the OCI default devices (runtime-spec config-linux.md#default-devices)
DEFAULT_DEVICES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8), "urandom": (1, 9), "tty": (5, 0)}
DEV_SYMLINKS = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
                "stderr": "/proc/self/fd/2", "ptmx": "pts/ptmx"}


def parse_options(options: Sequence[str]) -> tuple[MountFlag, MountFlag, str]:
    """fstab options -> (mount flags, propagation flags, data string)."""
    flags, prop, data = F.NONE, F.NONE, []
    for opt in options:
        if opt in _FLAG_OPTIONS:
            add, clear = _FLAG_OPTIONS[opt]
            flags = (flags | add) & ~clear
        elif opt in _PROPAGATION:
            prop |= _PROPAGATION[opt]
        else:
            data.append(opt)
    return flags, prop, ",".join(data)


def _mount_one(sys: Syscalls, source: str | None, target: str, fstype: str | None, options: Sequence[str]) -> None:
    flags, prop, data = parse_options(options)
    if fstype == "bind" or flags & F.BIND:
        # A bind ignores most flags; read-only etc. need a second, remounting call.
        sys.mount(source, target, None, (flags & (F.BIND | F.REC)) | F.BIND)
        extra = flags & ~(F.BIND | F.REC)
        if extra:
            sys.mount(None, target, None, F.BIND | F.REMOUNT | extra)
    else:
        sys.mount(source, target, fstype, flags, data or None)
    if prop:
        sys.mount(None, target, None, prop)


def set_propagation(sys: Syscalls, spec: Spec) -> None:
    """Make / private (or as requested) so nothing we mount leaks to the host."""
    sys.mount(None, "/", None, _PROPAGATION.get(spec.linux.rootfs_propagation or "rprivate", F.PRIVATE | F.REC))


def mount_rootfs(sys: Syscalls, root: str, mounts: Sequence[RootfsMount]) -> None:
    """The snapshot's mounts onto the root; a self-bind when there are none (pivot_root needs a mount point)."""
    if not mounts:
        sys.mount(root, root, None, F.BIND | F.REC)
        return
    for m in mounts:
        target = resolve_in_root(root, m.target) if m.target else root
        _mount_one(sys, m.source, target, m.type, m.options)


def _is_file_source(m: Mount) -> bool:
    try:
        return m.source is not None and m.type in (None, "bind") and not stat.S_ISDIR(os.stat(m.source).st_mode)
    except OSError:
        return False


def mount_spec_mounts(sys: Syscalls, root: str, mounts: Sequence[Mount]) -> None:
    """spec.mounts in order; targets created inside the rootfs (a file for a file bind)."""
    for m in mounts:
        target = resolve_in_root(root, m.destination)
        if _is_file_source(m):
            os.makedirs(posixpath.dirname(target), exist_ok=True)
            if not os.path.exists(target):
                open(target, "a").close()
        else:
            os.makedirs(target, exist_ok=True)
        fstype = "bind" if m.type in (None, "bind") or "bind" in m.options or "rbind" in m.options else m.type
        # onto an opened, checked fd, not onto ``target`` (a path a racing symlink could redirect)
        mounttarget.mount_in_root(sys, root, m.destination, m.source, fstype, m.options)


def create_devices(sys: Syscalls, root: str, spec: Spec) -> None:
    """Default device nodes and /dev symlinks, only when /dev is a fresh mount of ours."""
    if not any(m.destination.rstrip("/") == "/dev" for m in spec.mounts):
        return  # never write nodes into an image directory that might be the host's
    dev = resolve_in_root(root, "/dev")
    in_userns = any(n.type == "user" and not n.path for n in spec.linux.namespaces)
    for name, (major, minor) in DEFAULT_DEVICES.items():
        path = posixpath.join(dev, name)
        if not os.path.lexists(path):
            if in_userns:  # mknod is refused in a user ns: bind the host's node (runc does too)
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600))
                sys.mount(f"/dev/{name}", path, None, F.BIND)
            else:
                sys.mknod(path, stat.S_IFCHR | 0o666, os.makedev(major, minor))
    for name, target in DEV_SYMLINKS.items():
        path = posixpath.join(dev, name)
        if not os.path.lexists(path):
            os.symlink(target, path)
    for d in spec.linux.devices:  # e.g. the host's nodes under --privileged
        if not d.path.startswith("/dev/"):
            continue
        path = resolve_in_root(root, d.path)
        if os.path.lexists(path):
            continue
        os.makedirs(posixpath.dirname(path), exist_ok=True)
        kind = {"c": stat.S_IFCHR, "u": stat.S_IFCHR, "b": stat.S_IFBLK, "p": stat.S_IFIFO}[d.type]
        sys.mknod(path, kind | (d.file_mode if d.file_mode is not None else 0o666) & 0o7777,
                  os.makedev(d.major, d.minor))
        if d.uid is not None or d.gid is not None:
            os.chown(path, d.uid if d.uid is not None else -1, d.gid if d.gid is not None else -1)


def apply_sysctl(sys: Syscalls, root: str, spec: Spec) -> None:
    for key, value in sorted(spec.linux.sysctl.items()):
        sys.write_file(resolve_in_root(root, "/proc/sys/" + key.replace(".", "/")), value)


def mask_paths(sys: Syscalls, root: str, spec: Spec) -> None:
    """Bind /dev/null over masked files, a read-only tmpfs over masked directories."""
    for p in spec.linux.masked_paths:
        target = resolve_in_root(root, p)
        if not os.path.lexists(target):
            continue
        if os.path.isdir(target):
            sys.mount("tmpfs", target, "tmpfs", F.RDONLY, None)
        else:
            sys.mount("/dev/null", target, None, F.BIND)


def readonly_paths(sys: Syscalls, root: str, spec: Spec) -> None:
    for p in spec.linux.readonly_paths:
        target = resolve_in_root(root, p)
        if not os.path.lexists(target):
            continue
        sys.mount(target, target, None, F.BIND | F.REC)
        sys.mount(None, target, None, F.BIND | F.REMOUNT | F.RDONLY | F.REC)


def pivot_root(sys: Syscalls, root: str) -> None:
    """runc's trick: pivot_root(".", ".") stacks the old root on the new one; detach it."""
    sys.chdir(root)
    sys.pivot_root(".", ".")
    sys.mount(None, ".", None, F.SLAVE | F.REC)  # the unmount must not propagate anywhere
    sys.umount2(".", MNT_DETACH)
    sys.chdir("/")


def remount_root_readonly(sys: Syscalls) -> None:
    sys.mount(None, "/", None, F.BIND | F.REMOUNT | F.RDONLY)
