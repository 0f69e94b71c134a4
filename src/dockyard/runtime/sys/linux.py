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
_PR_SET_DUMPABLE = 4
_PR_SET_KEEPCAPS = 8
_PR_SET_SECCOMP = 22
_PR_CAPBSET_DROP = 24
_PR_SET_NO_NEW_PRIVS = 38
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_RAISE = 2
_SECCOMP_MODE_FILTER = 2
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
_SYS_CAPSET = 126 if os.uname().machine not in ("aarch64", "arm64") else 91
_SYS_CLOSE_RANGE = 436  # same number on every arch
_CLOSE_RANGE_CLOEXEC = 1 << 2


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

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

    def idmap_bind(self, path: str, userns_fd: int) -> None:
        idmap_bind(path, userns_fd)

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

    def getcwd(self) -> str:
        return os.getcwd()

    def mkdir_p(self, path: str, mode: int = 0o755) -> None:
        os.makedirs(path, mode, exist_ok=True)

    def stat(self, path: str) -> os.stat_result:
        return os.stat(path)

    def write_file(self, path: str, data: str) -> None:
        with open(path, "w") as f:
            f.write(data)

    def set_no_new_privs(self) -> None:
        _check(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")

    def set_keep_caps(self, keep: bool) -> None:
        _check(_libc.prctl(_PR_SET_KEEPCAPS, int(keep), 0, 0, 0), "prctl(PR_SET_KEEPCAPS)")

    def drop_bounding(self, cap: int) -> None:
        _check(_libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0), f"prctl(PR_CAPBSET_DROP, {cap})")

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        # capset(2) with version 3: two 32-bit words per set, low word first.
        header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
        data = (_CapData * 2)(
            _CapData(effective & 0xFFFFFFFF, permitted & 0xFFFFFFFF, inheritable & 0xFFFFFFFF),
            _CapData(effective >> 32, permitted >> 32, inheritable >> 32),
        )
        _check(_libc.syscall(_SYS_CAPSET, ctypes.byref(header), data), "capset")

    def raise_ambient(self, cap: int) -> None:
        _check(_libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_RAISE, cap, 0, 0), f"raise ambient {cap}")

    def seccomp_load(self, bpf: bytes) -> None:
        buf = ctypes.create_string_buffer(bpf, len(bpf))
        prog = _SockFprog(len(bpf) // 8, ctypes.addressof(buf))
        _check(_libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0), "seccomp")

    def set_dumpable(self, dumpable: bool) -> None:
        _check(_libc.prctl(_PR_SET_DUMPABLE, int(dumpable), 0, 0, 0), "prctl(PR_SET_DUMPABLE)")

    def cloexec_from(self, lowfd: int) -> None:
        ret = _libc.syscall(_SYS_CLOSE_RANGE, ctypes.c_uint(lowfd), ctypes.c_uint(0xFFFFFFFF),
                            ctypes.c_uint(_CLOSE_RANGE_CLOEXEC))
        if ret < 0:  # kernels before 5.11: mark each open fd by hand
            for name in os.listdir("/proc/self/fd"):
                fd = int(name)
                if fd >= lowfd:
                    try:
                        os.set_inheritable(fd, False)
                    except OSError:
                        pass

    def execve(self, path: str, args: Sequence[str], env: Sequence[str]) -> None:
        envmap = {k: v for k, _, v in (e.partition("=") for e in env)}
        os.execve(path, list(args), envmap)


# openat2(2) (Linux 5.6+): path resolution the kernel keeps inside a directory.
_SYS_OPENAT2 = 437  # same number on every arch
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_IN_ROOT = 0x10


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


def openat2(dirfd: int, path: str, flags: int, resolve: int) -> int:
    """An fd for ``path`` resolved by the kernel under ``dirfd`` with ``resolve`` (RESOLVE_* bits)."""
    how = _OpenHow(flags, 0, resolve)
    fd = _libc.syscall(_SYS_OPENAT2, ctypes.c_int(dirfd), _b(path), ctypes.byref(how), ctypes.c_size_t(ctypes.sizeof(how)))
    _check(fd, f"openat2 {path}", path)
    return int(fd)


# bpf(2): load and attach the cgroup v2 device program (runtime/devices_bpf.py builds it)
_SYS_BPF = 321 if os.uname().machine not in ("aarch64", "arm64") else 280


def bpf(cmd: int, attr: bytes) -> int:
    """bpf(cmd, attr, len(attr)); the attr buffer is copied, so outputs are not read back."""
    buf = ctypes.create_string_buffer(attr, len(attr))
    ret = _libc.syscall(ctypes.c_long(_SYS_BPF), ctypes.c_int(cmd), buf, ctypes.c_uint(len(attr)))
    _check(ret, f"bpf(cmd={cmd})")
    return int(ret)


# Idmapped mounts (Linux 5.12+): open_tree + mount_setattr(MOUNT_ATTR_IDMAP) + move_mount.
# The syscall numbers of the new mount API are the same on every arch.
_SYS_OPEN_TREE, _SYS_MOVE_MOUNT, _SYS_MOUNT_SETATTR = 428, 429, 442
_OPEN_TREE_CLONE = 1
_AT_EMPTY_PATH = 0x1000
_MOVE_MOUNT_F_EMPTY_PATH = 0x4
MOUNT_ATTR_IDMAP = 0x00100000


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def idmap_bind(path: str, userns_fd: int) -> None:
    """Mount an idmapped clone of the mount at ``path`` over ``path`` (in the caller's mount ns).

    Files owned by id k on disk then appear as the userns's mapping of k (0 -> its root)."""
    tree = _libc.syscall(ctypes.c_long(_SYS_OPEN_TREE), ctypes.c_int(-100), _b(path),
                         ctypes.c_uint(_OPEN_TREE_CLONE | os.O_CLOEXEC))
    _check(tree, f"open_tree {path}", path)
    try:
        attr = _MountAttr(MOUNT_ATTR_IDMAP, 0, 0, userns_fd)
        _check(_libc.syscall(ctypes.c_long(_SYS_MOUNT_SETATTR), ctypes.c_int(tree), b"",
                             ctypes.c_uint(_AT_EMPTY_PATH), ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr))),
               f"mount_setattr(MOUNT_ATTR_IDMAP) {path}", path)
        _check(_libc.syscall(ctypes.c_long(_SYS_MOVE_MOUNT), ctypes.c_int(tree), b"", ctypes.c_int(-100), _b(path),
                             ctypes.c_uint(_MOVE_MOUNT_F_EMPTY_PATH)), f"move_mount {path}", path)
    finally:
        os.close(tree)


# fork(2) holding the GIL (PyDLL), without CPython's at-fork work: see quiet_fork.
_libc_gil = ctypes.PyDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc_gil.fork.restype = ctypes.c_int


def quiet_fork() -> int:
    """fork(2) without ``os.fork``'s child-side hooks, for single-threaded callers (spawn helper, shim).

    Why: ``os.fork`` runs ``threading``'s, ``logging``'s and ``random``'s at-fork handlers in the
    child, which write to ~600 KiB of heap pages inherited from the helper; each shim would keep
    a private copy of them for its whole life (and they cost time on the create path).  Those handlers repair state that only a
    multi-threaded parent can leave behind (locks held, other threads listed), which a
    single-threaded caller never has.  The child must not rely on ``random``'s state differing
    from its parent's (``secrets``/``os.urandom`` are unaffected).
    """
    pid = _libc_gil.fork()
    if pid < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return pid


_SYS_CLONE = 220 if os.uname().machine in ("aarch64", "arm64") else 56
_libc_gil.syscall.restype = ctypes.c_long


def fork_into_new_userns() -> int:
    """A child born in a new user namespace: raw clone(CLONE_NEWUSER | SIGCHLD), GIL held.

    Why: with ``fork`` + ``unshare`` in the child, the parent must wait for the child to be
    scheduled and report before it may write the maps; here the namespace exists when clone
    returns (~0.3 ms less on the remap create path). The child skips glibc's fork bookkeeping
    (its cached tid is the parent's, atfork handlers do not run), so it may only make plain
    syscalls and ``os._exit``: ``runtime/userns.start_userns``'s helper reads a pipe and exits.
    Single-threaded callers only. No stack, tid or tls arguments: their order differs per arch.
    """
    pid = _libc_gil.syscall(ctypes.c_long(_SYS_CLONE), ctypes.c_ulong(int(CloneFlag.NEWUSER) | 17),  # SIGCHLD
                            ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))
    if pid < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return pid
