"""The merged view of overlay layers as one tar (``docker export``), without mounting.

Layers are given top first.  For each directory the names of every layer that
still shows it are merged; the topmost layer having a name wins; a whiteout
(0/0 character device) there hides it; a directory merges with the same
directory below it until a layer marks it opaque or has a non-directory of
that name (kernel Documentation/filesystems/overlayfs.rst).  Directories are
opened with ``O_NOFOLLOW`` fd by fd, so a symlink in a live upper dir is
archived as a symlink, never followed.  Hard links (same inode in one layer)
become tar hard links.
"""

from __future__ import annotations

import os
import stat
from typing import Iterator, Sequence

from dockyard.image import tarwriter as tw
from dockyard.image.diff import OPAQUE_XATTR, entry_of, open_file, xattrs_of
from dockyard.image.rootfs import is_whiteout

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def export_chunks(layers: Sequence[str]) -> Iterator[bytes]:
    """The flattened filesystem of ``layers`` (top first) as tar chunks."""
    fds = [os.open(d, _DIR_FLAGS) for d in layers]
    try:
        links: dict[tuple[int, int], str] = {}
        yield from _dir(list(zip(fds, fds)), (), links)
        yield tw.END
    finally:
        for fd in fds:
            os.close(fd)


def _dir(shown: list[tuple[int, int]], parts: tuple[str, ...], links: dict[tuple[int, int], str]) -> Iterator[bytes]:
    """``shown``: (root fd of the layer, fd of this directory in it) for every layer that shows it, top first."""
    names: set[str] = set()
    for _, dfd in shown:
        names.update(os.listdir(dfd))
    for name in sorted(names, key=os.fsencode):
        hits = []
        for root, dfd in shown:
            try:
                hits.append((root, dfd, os.stat(name, dir_fd=dfd, follow_symlinks=False)))
            except FileNotFoundError:
                continue
        if not hits:
            continue
        _, dfd, st = hits[0]
        if is_whiteout(st):
            continue
        p = (*parts, name)
        rel = "/".join(p)
        if not stat.S_ISDIR(st.st_mode):
            yield from _leaf(dfd, p, st, links)
            continue
        yield tw.header(entry_of(rel, st, xattrs_of(dfd, name, st)))
        below: list[tuple[int, int]] = []
        try:
            for r, d, s in hits:
                if not stat.S_ISDIR(s.st_mode):
                    break  # a non-directory (or whiteout) ends the merge
                below.append((r, os.open(name, _DIR_FLAGS, dir_fd=d)))
                if _opaque(below[-1][1]):
                    break
            yield from _dir(below, p, links)
        finally:
            for _, fd in below:
                os.close(fd)


def _leaf(dfd: int, parts: tuple[str, ...], st: os.stat_result, links: dict[tuple[int, int], str]) -> Iterator[bytes]:
    name, base = "/".join(parts), parts[-1]
    if stat.S_ISLNK(st.st_mode):
        yield tw.header(entry_of(name, st, linkname=os.readlink(base, dir_fd=dfd)))
        return
    if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
        first = links.setdefault((st.st_dev, st.st_ino), name)
        if first != name:
            yield tw.header(tw.Entry(name, tw.HARDLINK, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid,
                                     int(st.st_mtime), linkname=first))
            return
    entry = entry_of(name, st, xattrs_of(dfd, base, st))
    yield tw.header(entry)
    if entry.type == tw.REG and entry.size:
        yield from tw.fd_body(open_file(dfd, (base,), st), entry.size, "/" + name)


def _opaque(fd: int) -> bool:
    try:
        return os.getxattr(fd, OPAQUE_XATTR) == b"y"
    except OSError:
        return False
