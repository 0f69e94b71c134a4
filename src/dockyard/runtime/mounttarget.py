"""Mount onto an opened fd, never onto a path string (CVE-2021-30465 class).

``paths.resolve_in_root`` resolves a destination in user space; between that
and ``mount(2)`` another container sharing a volume can swap a directory for
a symlink and send the mount outside the rootfs (runc's CVE-2021-30465).
Closed as runc closed it:

1. the kernel resolves the destination, inside the root (``openat2`` with
   ``RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS``), into an ``O_PATH`` fd;
2. the fd's real path is checked to be below the root (re-check after open:
   a rename between resolution and check is caught);
3. ``mount(2)`` targets ``/proc/self/fd/N``: it mounts on the very dentry
   the fd holds, whatever the path now points at;
4. every further call on that destination (bind remount, propagation) opens
   it again, so it acts on the new mount, and after the last one the
   destination is opened and checked once more.

Runs in the init before pivot_root, where ``/proc`` is still the host's.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from dockyard.runtime.sys.syscalls import MountFlag, Syscalls

F = MountFlag


class EscapedRoot(OSError):
    """A mount destination resolved outside the container's root."""


def _openat2(root_fd: int, dest: str) -> int:
    from dockyard.runtime.sys.linux import RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, openat2

    return openat2(root_fd, dest.lstrip("/") or ".", os.O_PATH | os.O_CLOEXEC,
                   RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)


def check_inside(fd: int, root: str, dest: str) -> str:
    """The fd's host path; EscapedRoot when it is not ``root`` or below it."""
    real = os.readlink(f"/proc/self/fd/{fd}")
    top = os.path.realpath(root)
    if real != top and not real.startswith(top.rstrip("/") + "/"):
        raise EscapedRoot(1, f"mount destination {dest} resolved to {real}, outside the container's root", dest)
    return real


@contextmanager
def pinned(root: str, dest: str) -> Iterator[str]:
    """``/proc/self/fd/N`` for ``dest`` resolved in ``root`` and checked; closed on exit."""
    root_fd = os.open(root, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fd = _openat2(root_fd, dest)
    finally:
        os.close(root_fd)
    try:
        check_inside(fd, root, dest)
        yield f"/proc/self/fd/{fd}"
    finally:
        os.close(fd)


def mount_in_root(sys: Syscalls, root: str, dest: str, source: str | None, fstype: str | None,
                  options: Sequence[str]) -> None:
    """``rootfs._mount_one`` with every call pinned to a freshly opened, checked fd."""
    from dockyard.runtime.rootfs import parse_options

    flags, prop, data = parse_options(options)
    calls: list[tuple[str | None, str | None, MountFlag, str | None]] = []
    if fstype == "bind" or flags & F.BIND:
        calls.append((source, None, (flags & (F.BIND | F.REC)) | F.BIND, None))
        extra = flags & ~(F.BIND | F.REC)
        if extra:  # a bind ignores most flags: read-only etc. need a remount
            calls.append((None, None, F.BIND | F.REMOUNT | extra, None))
    else:
        calls.append((source, fstype, flags, data or None))
    if prop:
        calls.append((None, None, prop, None))
    for src, typ, fl, dat in calls:
        with pinned(root, dest) as target:
            sys.mount(src, target, typ, fl, dat)
    with pinned(root, dest):
        pass  # what the container will find at dest is inside its root
