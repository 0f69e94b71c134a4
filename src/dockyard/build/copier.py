"""COPY / ADD / WORKDIR as a layer tar made straight from files (no container, no mount).

``plan`` lists what lands where (``Planned`` items, parents first); its
``inputs`` are the cache key's input digest; ``layer_chunks`` writes the
tar.  Destination semantics follow Docker's: a trailing ``/`` or several
sources make the destination a directory; a directory source copies its
*contents*; a single file onto an existing directory lands inside it.
Parent directories that exist in the image keep their metadata; missing
ones are created 0755 root.  Sources are read with ``O_NOFOLLOW`` below
roots the builder extracted itself; a named source that is a symlink is
resolved inside its root, never outside.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from dockyard.core import pathwalk
from dockyard.errors import InvalidArgument, NotFound
from dockyard.image import tarwriter as tw
from dockyard.image.diff import entry_of

Lookup = Callable[[Sequence[str]], "os.stat_result | None"]  # a path in the image being built


@dataclass(frozen=True, slots=True)
class Planned:
    parts: tuple[str, ...]  # destination in the image
    entry: tw.Entry
    source: str = ""  # host path of a regular file's content ("" for dirs, links, heredocs)
    data: bytes | None = None  # literal content (heredocs, downloads kept in memory)


@dataclass(frozen=True, slots=True)
class Owner:
    uid: int
    gid: int


def dest_parts(dest: str, workdir: str) -> tuple[tuple[str, ...], bool]:
    """(absolute destination parts, names a directory?)."""
    as_dir = dest.endswith("/") or dest.endswith("/.") or dest == "."
    full = posixpath.normpath(posixpath.join(workdir or "/", dest))
    return tuple(p for p in full.split("/") if p), as_dir


def scoped(root: str, rel: str) -> str:
    """``rel`` under ``root`` with symlinks resolved inside ``root`` (a link to /etc means root/etc)."""
    def lookup(parts: Sequence[str]) -> str | None:  # a missing name is a plain one: lstat reports it
        path = os.path.join(root, *parts)
        return os.readlink(path) if os.path.islink(path) else None

    done = pathwalk.walk(rel, lookup)
    if done is None:
        raise InvalidArgument(f"too many levels of symbolic links: {rel}")
    return os.path.join(root, *done)


class Plan:
    def __init__(self, lookup: Lookup, owner: Owner | None = None, chmod: int | None = None) -> None:
        self.lookup = lookup
        self.owner = owner
        self.chmod = chmod
        self.items: dict[tuple[str, ...], Planned] = {}

    # -- adding things ------------------------------------------------------------------
    def add_path(self, root: str, rel: str, dest: tuple[str, ...], into_dir: bool, keep_owner: bool = False) -> None:
        """Copy context path ``root/rel`` to ``dest`` (into it when ``into_dir``)."""
        src = scoped(root, rel) if rel not in ("", ".") else root
        try:
            st = os.lstat(src)
        except FileNotFoundError:
            raise NotFound(f"\"/{rel}\": not found") from None
        if stat.S_ISDIR(st.st_mode):
            self._parents(dest, include_self=True)
            self._tree(src, dest, keep_owner)
            return
        name = os.path.basename(src.rstrip("/"))
        target = dest + (name,) if into_dir or self._is_dir(dest) else dest
        self._parents(target)
        self._file(src, st, target, keep_owner)

    def add_data(self, dest: tuple[str, ...], data: bytes, mode: int = 0o644, mtime: int = 0) -> None:
        self._parents(dest)
        e = tw.Entry("/".join(dest), tw.REG, self.chmod if self.chmod is not None else mode,
                     *self._ids(0, 0, False), mtime=mtime, size=len(data))
        self.items[dest] = Planned(dest, e, data=data)

    def add_dir(self, dest: tuple[str, ...]) -> None:
        """WORKDIR: create ``dest`` (and parents) unless it exists."""
        self._parents(dest, include_self=True)

    # -- internals -------------------------------------------------------------------------
    def _is_dir(self, parts: tuple[str, ...]) -> bool:
        planned = self.items.get(parts)
        if planned is not None:
            return planned.entry.type == tw.DIR
        st = self.lookup(parts)
        return st is not None and stat.S_ISDIR(st.st_mode)

    def _ids(self, uid: int, gid: int, keep: bool) -> tuple[int, int]:
        if keep:
            return uid, gid
        if self.owner is not None:
            return self.owner.uid, self.owner.gid
        return 0, 0

    def _parents(self, parts: tuple[str, ...], include_self: bool = False) -> None:
        upto = len(parts) if include_self else len(parts) - 1
        for i in range(1, upto + 1):
            p = parts[:i]
            if p in self.items:
                continue
            st = self.lookup(p)
            if st is not None:
                if not stat.S_ISDIR(st.st_mode):
                    raise InvalidArgument(f"cannot copy to /{'/'.join(p)}: not a directory")
                continue  # unchanged: not part of the layer
            uid, gid = self._ids(0, 0, False) if i == len(parts) and include_self else (0, 0)
            self.items[p] = Planned(p, tw.Entry("/".join(p), tw.DIR, 0o755, uid, gid))

    def _file(self, src: str, st: os.stat_result, dest: tuple[str, ...], keep: bool) -> None:
        link = os.readlink(src) if stat.S_ISLNK(st.st_mode) else ""
        e = entry_of("/".join(dest), st, linkname=link)
        uid, gid = self._ids(st.st_uid, st.st_gid, keep)
        mode = e.mode if self.chmod is None or e.type == tw.SYMLINK else self.chmod
        e = replace(e, uid=uid, gid=gid, mode=mode)
        self.items[dest] = Planned(dest, e, source=src if e.type == tw.REG else "")

    def _tree(self, src: str, dest: tuple[str, ...], keep: bool) -> None:
        for name in sorted(os.listdir(src)):
            path = os.path.join(src, name)
            st = os.lstat(path)
            target = dest + (name,)
            if stat.S_ISDIR(st.st_mode):
                uid, gid = self._ids(st.st_uid, st.st_gid, keep)
                mode = stat.S_IMODE(st.st_mode) if self.chmod is None else self.chmod
                self.items[target] = Planned(target, tw.Entry("/".join(target), tw.DIR, mode, uid, gid,
                                                              int(st.st_mtime)))
                self._tree(path, target, keep)
            elif stat.S_ISSOCK(st.st_mode):
                continue
            else:
                self._file(path, st, target, keep)

    # -- results -----------------------------------------------------------------------
    def ordered(self) -> list[Planned]:
        return [self.items[k] for k in sorted(self.items, key=lambda p: [s.encode("utf-8", "surrogateescape") for s in p])]

    def inputs(self) -> list[tuple[object, ...]]:
        """What the cache key covers: names, types, modes, owners, link targets and contents."""
        out: list[tuple[object, ...]] = []
        for p in self.ordered():
            e = p.entry
            content = ""
            if p.data is not None:
                content = hashlib.sha256(p.data).hexdigest()
            elif p.source:
                content = _file_digest(p.source)
            out.append(("/".join(p.parts), e.type.decode(), e.mode, e.uid, e.gid, e.linkname, content))
        return out

    def layer_chunks(self) -> Iterator[bytes]:
        for p in self.ordered():
            if p.data is not None:
                yield from tw.member(p.entry, [p.data, tw.padding(len(p.data))] if p.data else [])
            elif p.source:
                fd = os.open(p.source, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
                size = os.fstat(fd).st_size
                yield from tw.member(replace(p.entry, size=size), tw.fd_body(fd, size, "/" + "/".join(p.parts)))
            else:
                yield tw.header(p.entry)
        yield tw.END


def _file_digest(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()
