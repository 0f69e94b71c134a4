"""Extract a tar stream into a directory of a container (``PUT /containers/{id}/archive``).

moby ``pkg/archive.Unpack`` semantics: missing parents are created (0755),
an existing entry is replaced unless both are directories, and with
``no_overwrite_dir_non_dir`` a directory never replaces a non-directory (or
the reverse).  Every parent is resolved with ``walk.resolve`` from the
container root (symlinks followed *inside* the root, as Docker's chrooted
untar), and every leaf is created relative to that parent fd with
``O_NOFOLLOW``/``O_EXCL``: no entry, link or pre-existing symlink can make
the extraction write outside the container.
"""

from __future__ import annotations

import os
import posixpath
import stat
import tarfile
from typing import BinaryIO

from dockyard.daemon.cp import walk
from dockyard.errors import InvalidArgument

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _clean(name: str) -> list[str]:
    p = posixpath.normpath("/" + name.lstrip("/")).lstrip("/")
    if "\x00" in name:
        raise InvalidArgument(f"invalid tar header: NUL in {name!r}")
    return [] if p in ("", ".") else p.split("/")


def _ensure_dir(root_fd: int, parts: list[str]) -> int:
    """An fd (O_PATH) of directory ``parts`` resolved in the root, creating missing ones (MkdirAll)."""
    for i in range(1, len(parts) + 1):
        with walk.resolve(root_fd, "/".join(parts[:i]), follow_last=True) as r:
            if r.st is None:
                os.mkdir(r.name, 0o755, dir_fd=r.parent_fd)
    r = walk.resolve(root_fd, "/".join(parts), follow_last=True)
    try:
        if r.st is None or not stat.S_ISDIR(r.st.st_mode):
            raise InvalidArgument(f"cannot extract below {r.path}: not a directory")
        return r.open(os.O_PATH | os.O_DIRECTORY)
    finally:
        r.close()


def extract(root_fd: int, dest: list[str], stream: BinaryIO, *, no_overwrite_dir_non_dir: bool = False,
            owner: tuple[int, int] | None = None) -> None:
    """Unpack ``stream`` into container directory ``dest`` (symlink-free parts, must exist).
    ``owner``: chown every entry to it (``copyUIDGID``); else the tar's uid/gid are kept."""
    dir_times: list[tuple[list[str], int]] = []
    try:
        tf = tarfile.open(fileobj=stream, mode="r|*")
    except tarfile.TarError as exc:
        raise InvalidArgument(f"invalid tar stream: {exc}") from None
    try:
        for m in tf:
            parts = _clean(m.name)
            full = dest + parts
            shown = "/" + "/".join(full)
            if not parts:
                if m.isdir():
                    continue  # "." is the destination itself
                raise InvalidArgument(f"invalid tar header: {m.name!r} names the destination")
            pfd = _ensure_dir(root_fd, full[:-1])
            try:
                _entry(tf, m, pfd, parts[-1], shown, root_fd, dest, no_overwrite_dir_non_dir, owner)
            finally:
                os.close(pfd)
            if m.isdir():
                dir_times.append((full, int(m.mtime)))
    except tarfile.TarError as exc:
        raise InvalidArgument(f"invalid tar stream: {exc}") from None
    finally:
        tf.close()
    for full, mtime in reversed(dir_times):  # after the contents: writing a dir changes its mtime
        try:
            with walk.resolve(root_fd, "/".join(full)) as r:
                if r.st is not None and stat.S_ISDIR(r.st.st_mode):
                    os.utime(r.name, (mtime, mtime), dir_fd=r.parent_fd, follow_symlinks=False)
        except OSError:
            pass


def _entry(tf: tarfile.TarFile, m: tarfile.TarInfo, pfd: int, name: str, shown: str, root_fd: int,
           dest: list[str], no_overwrite: bool, owner: tuple[int, int] | None) -> None:
    try:
        old = os.stat(name, dir_fd=pfd, follow_symlinks=False)
    except FileNotFoundError:
        old = None
    if old is not None:
        old_dir = stat.S_ISDIR(old.st_mode)
        if no_overwrite and old_dir and not m.isdir():
            raise InvalidArgument(f"cannot overwrite directory \"{shown}\" with non-directory \"{shown}\"")
        if no_overwrite and not old_dir and m.isdir():
            raise InvalidArgument(f"cannot overwrite non-directory \"{shown}\" with directory \"{shown}\"")
        if not (old_dir and m.isdir()):
            _remove(pfd, name, old)
    mode = m.mode & 0o7777
    if m.isdir():
        if old is None or not stat.S_ISDIR(old.st_mode):
            os.mkdir(name, 0o700, dir_fd=pfd)
    elif m.isreg():
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=pfd)
        try:
            src = tf.extractfile(m)
            while src is not None and (chunk := src.read(1 << 20)):
                os.write(fd, chunk)  # a regular file just created: short writes only on ENOSPC (raises)
        finally:
            os.close(fd)
    elif m.issym():
        os.symlink(m.linkname, name, dir_fd=pfd)
    elif m.islnk():
        target = dest + _clean(m.linkname)
        with walk.resolve(root_fd, "/".join(target)) as t:
            if t.st is None or stat.S_ISDIR(t.st.st_mode):
                raise InvalidArgument(f"invalid hard link {m.name!r} -> {m.linkname!r}")
            os.link(t.name, name, src_dir_fd=t.parent_fd, dst_dir_fd=pfd, follow_symlinks=False)
    elif m.ischr() or m.isblk() or m.isfifo():
        kind = stat.S_IFCHR if m.ischr() else stat.S_IFBLK if m.isblk() else stat.S_IFIFO
        os.mknod(name, kind | 0o600, os.makedev(m.devmajor, m.devminor) if kind != stat.S_IFIFO else 0, dir_fd=pfd)
    else:
        return  # other types (sparse/GNU specials) carry nothing to create
    uid, gid = owner if owner is not None else (m.uid, m.gid)
    os.chown(name, uid, gid, dir_fd=pfd, follow_symlinks=False)
    if not m.issym():
        _chmod(pfd, name, mode)
        if not m.isdir():
            os.utime(name, (m.mtime, m.mtime), dir_fd=pfd, follow_symlinks=False)


def _chmod(pfd: int, name: str, mode: int) -> None:
    # fchmodat cannot take AT_SYMLINK_NOFOLLOW on Linux: open the entry O_PATH|O_NOFOLLOW, chmod via /proc
    fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=pfd)
    try:
        if stat.S_ISLNK(os.fstat(fd).st_mode):
            return
        os.chmod(f"/proc/self/fd/{fd}", mode)
    finally:
        os.close(fd)


def _remove(pfd: int, name: str, st: os.stat_result) -> None:
    """RemoveAll of an entry below ``pfd`` without following symlinks."""
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(name, dir_fd=pfd)
        return
    fd = os.open(name, _DIR, dir_fd=pfd)
    try:
        for child in os.listdir(fd):
            try:
                cst = os.stat(child, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            _remove(fd, child, cst)
    finally:
        os.close(fd)
    os.rmdir(name, dir_fd=pfd)
