"""The ``Syscalls`` seam: every privileged call the container init makes.

youki's ``Syscall`` trait, in Python: the init pipeline (``runtime.init``) and
the rootfs steps (``runtime.rootfs``) only talk to the kernel through this
protocol, so their *order* can be unit-tested with ``RecordingSyscalls``
(``runtime.sys.recording``) and without root.  ``LinuxSyscalls``
(``runtime.sys.linux``) is the only implementation that calls libc.

Filesystem calls made *after* pivot_root (``mkdir``, ``chdir``, ``stat``)
go through the seam too: after a fake pivot they would otherwise touch the
host's ``/``.
"""

from __future__ import annotations

import enum
import os
from typing import Protocol, Sequence


class CloneFlag(enum.IntFlag):
    """clone(2)/unshare(2) namespace flags (linux/sched.h)."""

    NEWNS = 0x00020000
    NEWCGROUP = 0x02000000
    NEWUTS = 0x04000000
    NEWIPC = 0x08000000
    NEWUSER = 0x10000000
    NEWPID = 0x20000000
    NEWNET = 0x40000000


class MountFlag(enum.IntFlag):
    """mount(2) flags (linux/mount.h)."""

    NONE = 0
    RDONLY = 1
    NOSUID = 2
    NODEV = 4
    NOEXEC = 8
    SYNCHRONOUS = 16
    REMOUNT = 32
    MANDLOCK = 64
    DIRSYNC = 128
    NOSYMFOLLOW = 256
    NOATIME = 1024
    NODIRATIME = 2048
    BIND = 4096
    MOVE = 8192
    REC = 16384
    SILENT = 32768
    UNBINDABLE = 1 << 17
    PRIVATE = 1 << 18
    SLAVE = 1 << 19
    SHARED = 1 << 20
    RELATIME = 1 << 21
    STRICTATIME = 1 << 24


MNT_DETACH = 2


class Syscalls(Protocol):
    """One method per privileged call, nothing more. Errors raise OSError."""

    def unshare(self, flags: CloneFlag) -> None: ...

    def setns(self, path: str, nstype: CloneFlag) -> None: ...

    def mount(self, source: str | None, target: str, fstype: str | None,
              flags: MountFlag, data: str | None = None) -> None: ...

    def umount2(self, target: str, flags: int = 0) -> None: ...

    def idmap_bind(self, path: str, userns_fd: int) -> None:
        """An idmapped (MOUNT_ATTR_IDMAP, ``userns_fd``'s maps) clone of ``path``'s mount, over ``path``."""
        ...

    def pivot_root(self, new_root: str, put_old: str) -> None: ...

    def sethostname(self, name: str) -> None: ...

    def setdomainname(self, name: str) -> None: ...

    def mknod(self, path: str, mode: int, device: int) -> None: ...

    def set_link_up(self, name: str) -> None: ...

    def setgroups(self, gids: Sequence[int]) -> None: ...

    def setresgid(self, gid: int) -> None: ...

    def setresuid(self, uid: int) -> None: ...

    def setrlimit(self, resource: int, soft: int, hard: int) -> None: ...

    def umask(self, mask: int) -> None: ...

    def chdir(self, path: str) -> None: ...

    def getcwd(self) -> str: ...

    def mkdir_p(self, path: str, mode: int = 0o755) -> None: ...

    def stat(self, path: str) -> os.stat_result: ...

    def write_file(self, path: str, data: str) -> None: ...

    # --- security (runtime.capabilities, runtime.seccomp, step 14 of runtime.init)

    def set_no_new_privs(self) -> None: ...

    def set_keep_caps(self, keep: bool) -> None: ...

    def drop_bounding(self, cap: int) -> None: ...

    def capset(self, effective: int, permitted: int, inheritable: int) -> None: ...

    def raise_ambient(self, cap: int) -> None: ...

    def seccomp_load(self, bpf: bytes) -> None: ...

    def set_dumpable(self, dumpable: bool) -> None: ...

    def cloexec_from(self, lowfd: int) -> None:
        """Mark every fd >= lowfd close-on-exec (close_range CLOSE_RANGE_CLOEXEC)."""

    def execve(self, path: str, args: Sequence[str], env: Sequence[str]) -> None: ...
