"""A container's (or build step's) upper dir -> changes (``docker diff``) and an OCI layer tar.

Theory of operation
-------------------
An overlayfs upper dir holds exactly what changed above its lower dirs:
new and copied-up entries, 0/0 character devices for deleted names, and
``trusted.overlay.opaque=y`` on directories that hide everything below them
(kernel Documentation/filesystems/overlayfs.rst).  Pass 1 (``plan``) walks the
upper dir with directory fds and ``O_NOFOLLOW`` (a running container may
plant symlinks there), looks each name up in the merged lower view, and
decides what to report; pass 2 writes the tar, reopening each regular file
the same safe way and checking it is still the file pass 1 saw.

Conversions (image-spec layer.md): whiteout -> ``.wh.NAME`` (regular, 0600,
empty, as Docker writes it); opaque dir -> the dir, then ``dir/.wh..wh..opq``.
Entries are in byte order of names, depth first, so the same upper dir always
gives the same tar; ``mtime=`` replaces every mtime (reproducible builds).

As Docker's init layer, the files the runtime creates as mount points
(``/etc/hosts``, ``/proc``, ...) are never part of a diff.  Like Docker,
``changes`` reports a directory that existed below only when something below
it changed (or its mode/owner did); the layer also keeps mtime-only changes.
"""

from __future__ import annotations

import enum
import os
import stat
from dataclasses import dataclass, replace
from typing import Callable, Iterator, Sequence

from dockyard.errors import Conflict, InvalidArgument
from dockyard.image import tarwriter as tw
from dockyard.image.rootfs import is_whiteout, lookup

OPAQUE_XATTR = "trusted.overlay.opaque"
_UNSUPPORTED_XATTRS = ("trusted.overlay.redirect", "trusted.overlay.metacopy")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# Docker's init layer (moby daemon/initlayer): mount points, never committed.
INIT_PATHS = frozenset({
    "dev", "dev/pts", "dev/shm", "dev/console", "proc", "sys", ".dockerenv",
    "etc/resolv.conf", "etc/hosts", "etc/hostname", "etc/mtab",
})
_INIT_ANCESTORS = frozenset({"dev", "etc"})


class Kind(enum.IntEnum):
    """Docker's ``ChangeType``: what ``GET /containers/{id}/changes`` reports."""

    MODIFIED = 0
    ADDED = 1
    DELETED = 2


@dataclass(frozen=True, slots=True)
class Change:
    path: str  # absolute, "/etc/passwd"
    kind: Kind

    def to_json(self) -> dict[str, object]:
        return {"Path": self.path, "Kind": int(self.kind)}


@dataclass(frozen=True, slots=True)
class Item:
    parts: tuple[str, ...]
    st: os.stat_result
    what: str  # "entry", "whiteout" or "opaque" (the marker inside an opaque dir)
    kind: Kind | None  # reported change; None: in the layer, not in ``changes``
    xattrs: tuple[tuple[str, bytes], ...] = ()


def plan(upper: str, lowers: Sequence[str], exclude: frozenset[str] = INIT_PATHS) -> list[Item]:
    """Every item of the layer, in tar order (see the module docstring)."""
    fd = os.open(upper, _DIR_FLAGS)
    try:
        return _Planner(list(lowers), exclude).visit(fd, (), True)
    finally:
        os.close(fd)


def changes(upper: str, lowers: Sequence[str]) -> list[Change]:
    """``docker diff``: changes sorted by path."""
    found = [Change("/" + "/".join(i.parts), i.kind) for i in plan(upper, lowers)
             if i.kind is not None and i.what != "opaque"]
    return sorted(found, key=lambda c: c.path.encode("utf-8", "surrogateescape"))


IdMapper = Callable[[int, int], "tuple[int, int]"]


def layer_chunks(upper: str, lowers: Sequence[str], *, mtime: int | None = None,
                 items: Sequence[Item] | None = None, ids: IdMapper | None = None) -> Iterator[bytes]:
    """The uncompressed layer tar of ``upper`` as chunks (its sha256 is the DiffID).

    ``items`` is ``plan(upper, lowers)`` when the caller already has it. ``ids``: the owners as the
    layer records them, for a user-namespaced container's upper dir (host ids back to the container's,
    as Docker's layers hold them).
    """
    items = plan(upper, lowers) if items is None else items
    root = os.open(upper, _DIR_FLAGS)
    try:
        links: dict[tuple[int, int], str] = {}
        for item in items:
            yield from _member(root, item, links, mtime, ids)
        yield tw.END
    finally:
        os.close(root)


class _Planner:
    def __init__(self, lowers: list[str], exclude: frozenset[str]) -> None:
        self._lowers = lowers
        self._exclude = exclude
        self._ancestors = {"/".join(p.split("/")[:i]) for p in exclude for i in range(1, p.count("/") + 1)}

    def visit(self, dfd: int, parts: tuple[str, ...], lower_visible: bool) -> list[Item]:
        items: list[Item] = []
        for name in sorted(os.listdir(dfd), key=os.fsencode):
            p = (*parts, name)
            rel = "/".join(p)
            if rel in self._exclude:
                continue
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            below = lookup(self._lowers, p) if lower_visible and self._lowers else None
            if is_whiteout(st):
                items.append(Item(p, st, "whiteout", Kind.DELETED if below is not None else None))
                continue
            for bad in _UNSUPPORTED_XATTRS:
                if _getxattr(dfd, name, bad) is not None:
                    raise InvalidArgument(f"/{rel}: overlayfs {bad.rsplit('.', 1)[1]} entries are not supported")
            xattrs = xattrs_of(dfd, name, st)
            if not stat.S_ISDIR(st.st_mode):
                items.append(Item(p, st, "entry", Kind.ADDED if below is None else Kind.MODIFIED, xattrs))
                continue
            opaque = _getxattr(dfd, name, OPAQUE_XATTR) == b"y"
            was_dir = below is not None and stat.S_ISDIR(below.st_mode)
            cfd = os.open(name, _DIR_FLAGS, dir_fd=dfd)
            try:
                children = self.visit(cfd, p, was_dir and not opaque)
            finally:
                os.close(cfd)
            kind: Kind | None
            if not was_dir:
                kind = Kind.ADDED
            elif opaque or _meta_differs(st, below) or any(c.kind is not None for c in children):
                kind = Kind.MODIFIED
            else:
                kind = None
            keep = (kind is not None or bool(children)
                    or (below is not None and below.st_mtime_ns != st.st_mtime_ns and rel not in self._ancestors))
            if keep:
                items.append(Item(p, st, "entry", kind, xattrs))
                if opaque:
                    items.append(Item((*p, ".wh..wh..opq"), st, "opaque", None))
            items.extend(children)
        return items


def _meta_differs(a: os.stat_result, b: os.stat_result | None) -> bool:
    return b is None or (a.st_mode, a.st_uid, a.st_gid) != (b.st_mode, b.st_uid, b.st_gid)


def xattrs_of(dfd: int, name: str, st: os.stat_result) -> tuple[tuple[str, bytes], ...]:
    if stat.S_ISLNK(st.st_mode):
        return ()  # Linux allows only trusted.* on symlinks; Docker carries none
    path = f"/proc/self/fd/{dfd}/{name}"  # the final component is not followed
    try:
        keys = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return ()
    out = []
    for k in sorted(keys):
        if k == "security.selinux" or k.startswith("trusted.overlay."):
            continue  # host labels and overlay bookkeeping are not image content
        try:
            out.append((k, os.getxattr(path, k, follow_symlinks=False)))
        except OSError:
            continue
    return tuple(out)


def _getxattr(dfd: int, name: str, key: str) -> bytes | None:
    try:
        return os.getxattr(f"/proc/self/fd/{dfd}/{name}", key, follow_symlinks=False)
    except OSError:
        return None


def entry_of(name: str, st: os.stat_result, xattrs: Sequence[tuple[str, bytes]] = (), linkname: str = "",
             mtime: int | None = None) -> tw.Entry:
    """A tar entry for an lstat result (the body, if any, is written separately)."""
    mode = st.st_mode
    t = (tw.DIR if stat.S_ISDIR(mode) else tw.SYMLINK if stat.S_ISLNK(mode) else tw.CHR if stat.S_ISCHR(mode)
         else tw.BLK if stat.S_ISBLK(mode) else tw.FIFO if stat.S_ISFIFO(mode) else tw.REG if stat.S_ISREG(mode)
         else None)
    if t is None:
        raise InvalidArgument(f"/{name}: cannot archive a socket")
    dev = (os.major(st.st_rdev), os.minor(st.st_rdev)) if t in (tw.CHR, tw.BLK) else (0, 0)
    return tw.Entry(name, t, stat.S_IMODE(mode), st.st_uid, st.st_gid,
                    int(st.st_mtime) if mtime is None else mtime, st.st_size if t == tw.REG else 0,
                    linkname, dev[0], dev[1], dict(xattrs))


def _member(root: int, item: Item, links: dict[tuple[int, int], str], mtime: int | None,
            ids: IdMapper | None = None) -> Iterator[bytes]:
    if ids is None:
        yield from _member_blocks(root, item, links, mtime, tw.header)
        return

    def header(e: tw.Entry) -> bytes:
        uid, gid = ids(e.uid, e.gid)
        return tw.header(replace(e, uid=uid, gid=gid))

    yield from _member_blocks(root, item, links, mtime, header)


def _member_blocks(root: int, item: Item, links: dict[tuple[int, int], str], mtime: int | None,
                   header: Callable[[tw.Entry], bytes]) -> Iterator[bytes]:
    name = "/".join(item.parts)
    st = item.st
    if item.what == "whiteout":
        parent, _, base = name.rpartition("/")
        wh = f"{parent}/.wh.{base}" if parent else f".wh.{base}"
        yield header(tw.Entry(wh, tw.REG, 0o600, st.st_uid, st.st_gid, int(st.st_mtime) if mtime is None else mtime))
        return
    if item.what == "opaque":
        yield header(tw.Entry(name, tw.REG, stat.S_IMODE(st.st_mode) & 0o777, st.st_uid, st.st_gid,
                              int(st.st_mtime) if mtime is None else mtime))
        return
    if stat.S_ISLNK(st.st_mode):
        target = _at(root, item.parts, lambda dfd, base: os.readlink(base, dir_fd=dfd))
        yield header(entry_of(name, st, linkname=target, mtime=mtime))
        return
    if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
        first = links.setdefault((st.st_dev, st.st_ino), name)
        if first != name:
            yield header(tw.Entry(name, tw.HARDLINK, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid,
                                  int(st.st_mtime) if mtime is None else mtime, linkname=first))
            return
    entry = entry_of(name, st, item.xattrs, mtime=mtime)
    yield header(entry)
    if entry.type == tw.REG and entry.size:
        yield from tw.fd_body(open_file(root, item.parts, st), entry.size, "/" + name)


def _at(root: int, parts: Sequence[str], op):  # type: ignore[no-untyped-def]
    """Run ``op(parent_fd, base)`` with the parent opened component by component, never following symlinks."""
    fd = os.dup(root)
    try:
        for comp in parts[:-1]:
            nfd = os.open(comp, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = nfd
        return op(fd, parts[-1])
    except (FileNotFoundError, NotADirectoryError, OSError) as exc:
        raise Conflict(f"/{'/'.join(parts)} changed while it was being archived: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def open_file(root: int, parts: Sequence[str], expected: os.stat_result) -> int:
    """An fd of the regular file ``parts`` below ``root``; Conflict unless it is still ``expected``."""
    fd = _at(root, parts, lambda dfd, base: os.open(
        base, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dfd))
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) != (expected.st_dev, expected.st_ino):
        os.close(fd)
        raise Conflict(f"/{'/'.join(parts)} changed while it was being archived")
    return fd
