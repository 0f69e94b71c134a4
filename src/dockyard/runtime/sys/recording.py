"""``RecordingSyscalls``: a fake ``Syscalls`` that records calls (youki's TestHelperSyscall).

Each call is appended to ``calls`` as ``(name, args...)``.  ``fail`` maps a
call name to an ``OSError`` to raise; ``files`` feeds ``stat`` (path -> mode),
so PATH lookup can be driven without a filesystem.
"""

from __future__ import annotations

import errno
import os
import stat as stat_mod
from typing import Any, Sequence

from dockyard.runtime.sys.syscalls import CloneFlag, MountFlag


class RecordingSyscalls:
    def __init__(self, files: dict[str, int] | None = None, fail: dict[str, OSError] | None = None) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.files = dict(files or {})
        self.fail = dict(fail or {})

    def _record(self, name: str, *args: Any) -> None:
        self.calls.append((name, *args))
        if name in self.fail:
            raise self.fail[name]

    def names(self) -> list[str]:
        """The call names, in order."""
        return [c[0] for c in self.calls]

    def unshare(self, flags: CloneFlag) -> None:
        self._record("unshare", flags)

    def setns(self, path: str, nstype: CloneFlag) -> None:
        self._record("setns", path, nstype)

    def mount(self, source: str | None, target: str, fstype: str | None,
              flags: MountFlag, data: str | None = None) -> None:
        if target.startswith("/proc/self/fd/"):  # runtime/mounttarget.py pins targets: record where they are
            target = os.readlink(target)
        self._record("mount", source, target, fstype, flags, data)

    def idmap_bind(self, path: str, userns_fd: int) -> None:
        self._record("idmap_bind", path, userns_fd)

    def umount2(self, target: str, flags: int = 0) -> None:
        self._record("umount2", target, flags)

    def pivot_root(self, new_root: str, put_old: str) -> None:
        self._record("pivot_root", new_root, put_old)

    def sethostname(self, name: str) -> None:
        self._record("sethostname", name)

    def setdomainname(self, name: str) -> None:
        self._record("setdomainname", name)

    def mknod(self, path: str, mode: int, device: int) -> None:
        self._record("mknod", path, mode, device)

    def set_link_up(self, name: str) -> None:
        self._record("set_link_up", name)

    def setgroups(self, gids: Sequence[int]) -> None:
        self._record("setgroups", tuple(gids))

    def setresgid(self, gid: int) -> None:
        self._record("setresgid", gid)

    def setresuid(self, uid: int) -> None:
        self._record("setresuid", uid)

    def setrlimit(self, resource: int, soft: int, hard: int) -> None:
        self._record("setrlimit", resource, soft, hard)

    def umask(self, mask: int) -> None:
        self._record("umask", mask)

    def chdir(self, path: str) -> None:
        self._record("chdir", path)

    def getcwd(self) -> str:
        self._record("getcwd")
        chdirs = [c[1] for c in self.calls if c[0] == "chdir"]
        return chdirs[-1] if chdirs else "/"

    def mkdir_p(self, path: str, mode: int = 0o755) -> None:
        self._record("mkdir_p", path)
        self.files.setdefault(path, stat_mod.S_IFDIR | mode)

    def stat(self, path: str) -> os.stat_result:
        self.calls.append(("stat", path))
        if path not in self.files:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
        return os.stat_result((self.files[path], 0, 0, 1, 0, 0, 0, 0, 0, 0))

    def write_file(self, path: str, data: str) -> None:
        self._record("write_file", path, data)

    def set_no_new_privs(self) -> None:
        self._record("set_no_new_privs")

    def set_keep_caps(self, keep: bool) -> None:
        self._record("set_keep_caps", keep)

    def drop_bounding(self, cap: int) -> None:
        self._record("drop_bounding", cap)

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        self._record("capset", effective, permitted, inheritable)

    def raise_ambient(self, cap: int) -> None:
        self._record("raise_ambient", cap)

    def seccomp_load(self, bpf: bytes) -> None:
        self._record("seccomp_load", bpf)

    def set_dumpable(self, dumpable: bool) -> None:
        self._record("set_dumpable", dumpable)

    def cloexec_from(self, lowfd: int) -> None:
        self._record("cloexec_from", lowfd)

    def execve(self, path: str, args: Sequence[str], env: Sequence[str]) -> None:
        self._record("execve", path, tuple(args), tuple(env))
