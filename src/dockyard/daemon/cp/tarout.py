"""A resolved container entry (file, symlink or directory tree) as tar chunks.

Names start with ``base`` (Docker's rebase: the last component the user
asked for).  Directories are opened ``O_NOFOLLOW`` fd by fd, so a symlink in
the tree is archived as a symlink, never followed; hard links (same inode)
become tar hard links; files are re-checked by inode when opened.
"""

from __future__ import annotations

import os
import stat
from typing import Iterator

from dockyard.daemon.cp.walk import Resolved
from dockyard.image import tarwriter as tw
from dockyard.image.diff import entry_of, xattrs_of

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def tar_chunks(r: Resolved, base: str) -> Iterator[bytes]:
    links: dict[tuple[int, int], str] = {}
    if r.st is None:
        raise FileNotFoundError(r.path)
    if stat.S_ISDIR(r.st.st_mode):
        fd = r.open(_DIR)
        try:
            yield tw.header(entry_of(base, os.fstat(fd), xattrs_of(r.parent_fd, r.name, r.st) if r.name else ()))
            yield from _tree(fd, base, links)
        finally:
            os.close(fd)
    else:
        yield from _leaf(r.parent_fd, r.name, r.st, base, links)
    yield tw.END


def _tree(dfd: int, prefix: str, links: dict[tuple[int, int], str]) -> Iterator[bytes]:
    for name in sorted(os.listdir(dfd), key=os.fsencode):
        try:
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
        except FileNotFoundError:
            continue  # removed meanwhile (a running container)
        rel = f"{prefix}/{name}"
        if stat.S_ISDIR(st.st_mode):
            try:
                sub = os.open(name, _DIR, dir_fd=dfd)
            except (FileNotFoundError, NotADirectoryError, OSError):
                continue  # swapped for a symlink or removed: skipped, never followed
            try:
                yield tw.header(entry_of(rel, os.fstat(sub), xattrs_of(dfd, name, st)))
                yield from _tree(sub, rel, links)
            finally:
                os.close(sub)
        elif stat.S_ISSOCK(st.st_mode):
            continue  # tar cannot carry sockets; Docker skips them too
        else:
            yield from _leaf(dfd, name, st, rel, links)


def _leaf(dfd: int, name: str, st: os.stat_result, rel: str, links: dict[tuple[int, int], str]) -> Iterator[bytes]:
    if stat.S_ISLNK(st.st_mode):
        yield tw.header(entry_of(rel, st, linkname=os.readlink(name, dir_fd=dfd)))
        return
    if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
        first = links.setdefault((st.st_dev, st.st_ino), rel)
        if first != rel:
            yield tw.header(tw.Entry(rel, tw.HARDLINK, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid,
                                     int(st.st_mtime), linkname=first))
            return
    if not stat.S_ISREG(st.st_mode):
        yield tw.header(entry_of(rel, st))
        return
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dfd)
    try:
        now = os.fstat(fd)
        if not stat.S_ISREG(now.st_mode):
            return  # swapped meanwhile: skipped
        entry = entry_of(rel, now, xattrs_of(dfd, name, now))
        yield tw.header(entry)
        if entry.size:
            yield from _body(fd, entry.size)
    finally:
        os.close(fd)


def _body(fd: int, size: int) -> Iterator[bytes]:
    """Exactly ``size`` bytes (zero-filled if the file shrank meanwhile), then padding."""
    left = size
    while left:
        data = os.read(fd, min(left, 1 << 20))
        if not data:
            data = b"\0" * min(left, 1 << 20)
        yield data
        left -= len(data)
    yield tw.padding(size)
