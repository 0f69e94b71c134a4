"""``LinuxSyscalls``: the real ``Syscalls``; the only module that calls libc.

Calls not exposed by the ``os`` module go through ctypes with
``use_errno=True`` so failures surface as ``OSError`` with the right errno.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import os
import resource
import socket
import struct
from typing import Sequence

from dockyard.runtime.sys.syscalls import CloneFlag, MountFlag

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.setdomainname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_libc.syscall.restype = ctypes.c_long

_SYS_PIVOT_ROOT = 155  # x86_64; aarch64 uses 41
if os.uname().machine in ("aarch64", "arm64"):
    _SYS_PIVOT_ROOT = 41

_PR_SET_CHILD_SUBREAPER = 36
_PR_SET_PDEATHSIG = 1

# linux/sockios.h, net/if.h
_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1


def _check(ret: int, what: str, path: str | None = None) -> None:
    if ret < 0:
        err = ctypes.get_errno()
        if path is None:
            raise OSError(err, f"{what}: {os.strerror(err)}")
        raise OSError(err, f"{what}: {os.strerror(err)}", path)


def _b(s: str | None) -> bytes | None:
    return None if s is None else os.fsencode(s)


def set_child_subreaper() -> None:
    """prctl(PR_SET_CHILD_SUBREAPER): orphaned descendants are reparented to us."""
    _check(_libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl(PR_SET_CHILD_SUBREAPER)")


def set_parent_death_signal(sig: int) -> None:
    _check(_libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")


class LinuxSyscalls:
    def unshare(self, flags: CloneFlag) -> None:
        _check(_libc.unshare(ctypes.c_int(int(flags))), "unshare")  # os.unshare is 3.12+

    def setns(self, path: str, nstype: CloneFlag) -> None:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            _check(_libc.setns(fd, ctypes.c_int(int(nstype))), f"setns {path}", path)
        finally:
            os.close(fd)

    def mount(self, source: str | None, target: str, fstype: str | None,
              flags: MountFlag, data: str | None = None) -> None:
        ret = _libc.mount(_b(source), _b(target), _b(fstype), ctypes.c_ulong(int(flags)), _b(data))
        _check(ret, f"mount {source or 'none'} on {target}", target)

    def umount2(self, target: str, flags: int = 0) -> None:
        _check(_libc.umount2(_b(target), flags), f"umount {target}", target)

    def pivot_root(self, new_root: str, put_old: str) -> None:
        ret = _libc.syscall(_SYS_PIVOT_ROOT, _b(new_root), _b(put_old))
        _check(ret, "pivot_root", new_root)

    def sethostname(self, name: str) -> None:
        socket.sethostname(name)

    def setdomainname(self, name: str) -> None:
        raw = name.encode()
        _check(_libc.setdomainname(raw, len(raw)), "setdomainname")

    def mknod(self, path: str, mode: int, device: int) -> None:
        os.mknod(path, mode, device)
        os.chmod(path, mode & 0o7777)  # mknod's mode is filtered by the umask

    def set_link_up(self, name: str) -> None:
        # SIOCGIFFLAGS / SIOCSIFFLAGS on any socket of the current net ns.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            req = struct.pack("16sH22x", name.encode(), 0)
            flags = struct.unpack("16sH22x", fcntl.ioctl(s.fileno(), _SIOCGIFFLAGS, req))[1]
            fcntl.ioctl(s.fileno(), _SIOCSIFFLAGS, struct.pack("16sH22x", name.encode(), flags | _IFF_UP))

    def setgroups(self, gids: Sequence[int]) -> None:
        os.setgroups(list(gids))

    def setresgid(self, gid: int) -> None:
        os.setresgid(gid, gid, gid)

    def setresuid(self, uid: int) -> None:
        os.setresuid(uid, uid, uid)

    def setrlimit(self, res: int, soft: int, hard: int) -> None:
        resource.setrlimit(res, (soft, hard))

    def umask(self, mask: int) -> None:
        os.umask(mask)

    def chdir(self, path: str) -> None:
        os.chdir(path)

    def mkdir_p(self, path: str, mode: int = 0o755) -> None:
        os.makedirs(path, mode, exist_ok=True)

    def stat(self, path: str) -> os.stat_result:
        return os.stat(path)

    def write_file(self, path: str, data: str) -> None:
        with open(path, "w") as f:
            f.write(data)

    def execve(self, path: str, args: Sequence[str], env: Sequence[str]) -> None:
        envmap = dict(e.split("=", 1) if "=" in e else (e, "") for e in env)
        os.execve(path, list(args), envmap)
