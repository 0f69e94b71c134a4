"""Read a file of an overlay rootfs as the container would see it, without mounting.

The merged view is computed by hand (kernel Documentation/filesystems/overlayfs.rst):
layers are searched top first; a 0/0 character device is a whiteout that hides
the name in lower layers; a directory with ``trusted.overlay.opaque=y`` hides
lower layers' contents below it; a non-directory hides any lower directory of
the same name.  Symlinks are resolved *in the merged view* (absolute targets
restart at the container's root, ".." never climbs above it), so a link can
never lead out of the layers; the final open walks directory fds with
``O_NOFOLLOW``, so a concurrently swapped symlink in a live upper dir is
refused rather than followed.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import Sequence

from dockyard.core import pathwalk

MAX_SYMLINKS = pathwalk.MAX_SYMLINKS  # as the kernel's path walk
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def read_file(layers: Sequence[str], path: str, max_size: int = 16 << 20) -> bytes | None:
    """Contents of regular file ``path`` in the merged view of ``layers`` (top first), or None."""
    parts = _walk(layers, path, keep_missing=False)
    if not parts:
        return None
    hit = _lookup(layers, parts)
    if hit is None or not stat.S_ISREG(hit[1].st_mode):
        return None
    try:
        return _read_nofollow(hit[0], parts, max_size)
    except OSError:
        return None


def lookup(layers: Sequence[str], parts: Sequence[str]) -> os.stat_result | None:
    """lstat of ``parts`` (a symlink-free path) in the merged view of ``layers`` (top first), or None."""
    hit = _lookup(layers, list(parts))
    return None if hit is None else hit[1]


def is_whiteout(st: os.stat_result) -> bool:
    """An overlayfs whiteout: a 0/0 character device."""
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _is_opaque(path: str) -> bool:
    try:
        return os.getxattr(path, "trusted.overlay.opaque", follow_symlinks=False) == b"y"
    except OSError:
        return False


def _lookup(layers: Sequence[str], parts: list[str]) -> tuple[str, os.stat_result] | None:
    """(layer, lstat) of the topmost entry for ``parts`` (a symlink-free path), or None if hidden/absent."""
    for layer in layers:
        cur = layer
        hides_lower = False
        st: os.stat_result | None = None
        for i, comp in enumerate(parts):
            cur = os.path.join(cur, comp)
            try:
                st = os.lstat(cur)
            except (FileNotFoundError, NotADirectoryError):
                st = None
                break
            if is_whiteout(st):
                return None
            if i < len(parts) - 1:
                if not stat.S_ISDIR(st.st_mode):
                    return None  # a file/symlink here hides whatever lower layers have below it
                if _is_opaque(cur):
                    hides_lower = True
        if st is not None:
            return layer, st
        if hides_lower:
            return None
    return None


def _walk(layers: Sequence[str], path: str, *, keep_missing: bool) -> list[str] | None:
    """Components of ``path`` with its symlinks resolved inside the merged view.

    ``keep_missing`` decides what a missing component or a link past
    ``MAX_SYMLINKS`` means: a miss (None) for reads, or the rest of the path
    kept as written (a link past the limit then counts as a plain name) for
    ``resolve_prefix``.
    """
    def lookup(parts: Sequence[str]) -> str | None | pathwalk.Missing:
        hit = _lookup(layers, list(parts))
        if hit is None:
            return pathwalk.MISSING
        return os.readlink(os.path.join(hit[0], *parts)) if stat.S_ISLNK(hit[1].st_mode) else None

    return pathwalk.walk(path, lookup, keep_missing=keep_missing, too_many="plain" if keep_missing else "fail")


def _read_nofollow(layer: str, parts: list[str], max_size: int) -> bytes | None:
    fd = os.open(layer, _DIR_FLAGS)
    try:
        for comp in parts[:-1]:
            nfd = os.open(comp, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = nfd
        ffd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=fd)
    finally:
        os.close(fd)
    with os.fdopen(ffd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            return None
        if st.st_size > max_size:
            raise OSError(errno.EFBIG, "file too large")
        return f.read(max_size + 1)[:max_size]


def resolve_prefix(layers: Sequence[str], path: str) -> list[str]:
    """``path`` with symlinks of its existing components resolved in the merged view; the rest kept as is.

    The builder uses it for COPY destinations (``/bin/x`` on an image where
    ``/bin`` links to ``usr/bin`` lands in ``/usr/bin/x``, as in Docker).
    """
    parts = _walk(layers, path, keep_missing=True)
    assert parts is not None  # keep_missing never answers a miss
    return parts
