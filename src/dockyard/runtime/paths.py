"""Resolve a container path inside the rootfs so image symlinks cannot escape it.

The idea of cyphar/filepath-securejoin: walk the path one component at a
time, following symlinks by hand, treating the rootfs as ``/`` (absolute
targets restart at the rootfs, ``..`` never climbs above it).  Components that
do not exist yet are kept as they are, so the result can be created.
"""

from __future__ import annotations

import os
import posixpath

MAX_SYMLINKS = 255


def resolve_in_root(root: str, unsafe: str) -> str:
    """The host path of container path ``unsafe`` under ``root``, symlinks resolved inside root."""
    parts = [p for p in unsafe.split("/") if p]
    resolved: list[str] = []  # components below root, all symlink-free
    links = 0
    while parts:
        part = parts.pop(0)
        if part == ".":
            continue
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = os.path.join(root, *resolved, part)
        try:
            is_link = os.path.islink(candidate)
        except OSError:
            is_link = False
        if not is_link:
            resolved.append(part)
            continue
        links += 1
        if links > MAX_SYMLINKS:
            raise OSError(40, "too many levels of symbolic links", unsafe)  # ELOOP
        target = os.readlink(candidate)
        if target.startswith("/"):
            resolved = []
        parts = [p for p in target.split("/") if p] + parts
    return posixpath.join(root, *resolved) if resolved else root
