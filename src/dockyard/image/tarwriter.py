"""Write tar streams as chunks: headers from values, bodies from open files (sans-I/O headers).

Used for layers (diff, export) and image archives (save).  Every header is
made from an ``Entry`` value, so the same values always give the same bytes:
PAX format (long names, big sizes, xattrs), integer mtimes, no user/group
names.  Directory names end in "/" as Go's archive/tar (and so Docker) writes
them.  xattrs go in ``SCHILY.xattr.<name>`` records; binary values (such as
``security.capability``) are carried byte for byte.
"""

from __future__ import annotations

import os
import tarfile
from dataclasses import dataclass, field
from typing import BinaryIO, Iterable, Iterator, Mapping

from dockyard.errors import Conflict

BLOCK = 512
END = b"\0" * (2 * BLOCK)  # two zero blocks close an archive
_CHUNK = 1 << 20

REG = tarfile.REGTYPE
DIR = tarfile.DIRTYPE
SYMLINK = tarfile.SYMTYPE
HARDLINK = tarfile.LNKTYPE
CHR = tarfile.CHRTYPE
BLK = tarfile.BLKTYPE
FIFO = tarfile.FIFOTYPE


@dataclass(frozen=True, slots=True)
class Entry:
    name: str  # relative, "/"-separated, no leading "/"
    type: bytes = REG
    mode: int = 0o644  # permission bits incl. setuid/setgid/sticky
    uid: int = 0
    gid: int = 0
    mtime: int = 0
    size: int = 0  # regular files only
    linkname: str = ""
    devmajor: int = 0
    devminor: int = 0
    xattrs: Mapping[str, bytes] = field(default_factory=dict)


def header(e: Entry) -> bytes:
    """The header block(s) of ``e`` (PAX records first when needed)."""
    name = e.name.rstrip("/") + "/" if e.type == DIR else e.name
    ti = tarfile.TarInfo(name)
    ti.type = e.type
    ti.mode = e.mode & 0o7777
    ti.uid, ti.gid = e.uid, e.gid
    ti.uname = ti.gname = ""
    ti.mtime = int(e.mtime)
    ti.size = e.size if e.type == REG else 0
    ti.linkname = e.linkname
    ti.devmajor, ti.devminor = e.devmajor, e.devminor
    if e.xattrs:
        # surrogateescape round-trips arbitrary bytes through tarfile's str records.
        ti.pax_headers = {f"SCHILY.xattr.{k}": v.decode("utf-8", "surrogateescape")
                          for k, v in sorted(e.xattrs.items())}
    return ti.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def padding(size: int) -> bytes:
    """Zero bytes that round a body of ``size`` up to a whole block."""
    return b"\0" * (-size % BLOCK)


def file_body(f: BinaryIO, size: int, what: str) -> Iterator[bytes]:
    """Exactly ``size`` bytes of ``f`` then padding; Conflict if the file changed size meanwhile."""
    left = size
    while left:
        chunk = f.read(min(_CHUNK, left))
        if not chunk:
            raise Conflict(f"{what} changed while it was being archived")
        left -= len(chunk)
        yield chunk
    if f.read(1):
        raise Conflict(f"{what} changed while it was being archived")
    pad = padding(size)
    if pad:
        yield pad


def fd_body(fd: int, size: int, what: str) -> Iterator[bytes]:
    """``file_body`` for an open descriptor (closed when done)."""
    with os.fdopen(fd, "rb", buffering=0) as f:
        yield from file_body(f, size, what)  # type: ignore[arg-type]


def member(e: Entry, body: Iterable[bytes] = ()) -> Iterator[bytes]:
    """Header then body (the body must include its padding: see ``file_body``)."""
    yield header(e)
    yield from body


def blob_member(name: str, data: bytes, mtime: int = 0) -> Iterator[bytes]:
    """A small in-memory regular file."""
    yield header(Entry(name, REG, 0o644, size=len(data), mtime=mtime))
    if data:
        yield data + padding(len(data))
