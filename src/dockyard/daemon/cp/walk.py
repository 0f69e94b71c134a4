"""Resolve a container path one component at a time from a root fd.

Symlinks are read and followed *by us* (absolute targets restart at the
container root, ".." never climbs above it: cyphar/filepath-securejoin's
rules), and every step opens the next component ``O_PATH|O_NOFOLLOW``
relative to the previous fd.  The kernel never follows a container symlink,
so a link swapped in during the walk is either followed inside the root or
refused; it can never lead to a host file.  Mount points inside the root
(volumes, binds, tmpfs) are crossed naturally, as the container sees them.
"""

from __future__ import annotations

import errno
import os
import stat

MAX_SYMLINKS = 40
_PATH = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC


class Resolved:
    """An fd of the resolved parent directory, the final name and its lstat (None if absent).
    ``parts`` is the symlink-free container path of the entry."""

    __slots__ = ("parent_fd", "name", "st", "parts")

    def __init__(self, parent_fd: int, name: str, st: os.stat_result | None, parts: list[str]) -> None:
        self.parent_fd, self.name, self.st, self.parts = parent_fd, name, st, parts

    def close(self) -> None:
        if self.parent_fd >= 0:
            os.close(self.parent_fd)
            self.parent_fd = -1

    def __enter__(self) -> "Resolved":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def path(self) -> str:
        return "/" + "/".join(self.parts)

    def open(self, flags: int) -> int:
        """Open the entry itself (never following a final symlink); the root when ``name`` is ""."""
        if not self.name:
            return os.open(f"/proc/self/fd/{self.parent_fd}", flags | os.O_CLOEXEC)
        return os.open(self.name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=self.parent_fd)


def _lstat(dfd: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dfd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def resolve(root_fd: int, path: str, *, follow_last: bool = False) -> Resolved:
    """Walk ``path`` below ``root_fd``. Every component but the last must exist
    (FileNotFoundError / NotADirectoryError otherwise); the last may be absent.
    The caller owns ``Resolved.parent_fd``."""
    todo = [c for c in path.split("/") if c not in ("", ".")]
    stack = [os.dup(root_fd)]  # fds of the directories in ``parts``, root first
    parts: list[str] = []
    links = 0
    try:
        while todo:
            comp = todo.pop(0)
            if comp == "..":
                if parts:
                    os.close(stack.pop())
                    parts.pop()
                continue
            st = _lstat(stack[-1], comp)
            last = not todo
            if st is not None and stat.S_ISLNK(st.st_mode) and (not last or follow_last):
                links += 1
                if links > MAX_SYMLINKS:
                    raise OSError(errno.ELOOP, "too many levels of symbolic links", path)
                target = os.readlink(comp, dir_fd=stack[-1])
                if target.startswith("/"):
                    while len(stack) > 1:
                        os.close(stack.pop())
                    parts.clear()
                todo = [c for c in target.split("/") if c not in ("", ".")] + todo
                continue
            if last:
                parent = stack.pop()
                return Resolved(parent, comp, st, parts + [comp])
            if st is None:
                raise FileNotFoundError(errno.ENOENT, "no such file or directory", path)
            if not stat.S_ISDIR(st.st_mode):
                raise NotADirectoryError(errno.ENOTDIR, "not a directory", path)
            stack.append(os.open(comp, _PATH | os.O_DIRECTORY, dir_fd=stack[-1]))
            parts.append(comp)
        # the path names a directory we are in (root, or ended with "..")
        fd = stack.pop()
        return Resolved(fd, "", os.fstat(fd), list(parts))
    finally:
        for fd in stack:
            os.close(fd)


def link_target(root_fd: int, path: str) -> str:
    """The container path a symlink at ``path`` finally points to (Docker's linkTarget)."""
    with resolve(root_fd, path, follow_last=True) as r:
        return r.path
