"""Apply a layer tarball onto a directory that becomes an overlayfs lower dir.

Theory of operation
-------------------
The tar stream (plain, gzip or zstd, detected by magic bytes) is hashed as it
is decompressed; the sha256 of the *uncompressed* stream, trailing padding
included, is the layer's DiffID (image-spec config.md).

Entries are written with directory file descriptors only: each parent path
component is opened with ``O_DIRECTORY|O_NOFOLLOW`` relative to the previous
one, starting at the layer root.  A symlink -- earlier in this tar or already
in the directory -- therefore can never redirect a write outside the root: the
open fails with ELOOP/ENOTDIR and the entry is refused.  Names are cleaned like
Docker's (a leading "/" is stripped) but any ".." that escapes is refused, as
are hard links whose target would escape.

OCI whiteouts become overlayfs ones (image-spec layer.md "Whiteouts";
kernel Documentation/filesystems/overlayfs.rst):

* ``dir/.wh.NAME``     -> ``dir/NAME`` as a 0/0 character device
* ``dir/.wh..wh..opq`` -> xattr ``trusted.overlay.opaque=y`` on ``dir``

Directory mtimes are set last (writing into a dir changes its mtime).  On any
error the destination directory is removed and ``InvalidArgument`` names the
offending entry.

Refused beyond escapes (image-spec layer.md; each would let one layer smuggle
something overlayfs or the host reads differently from what the tar says):

* a name both whited out and present in the same layer (whiteouts apply to
  lower layers only), and entries below a whited-out name;
* a character device 0/0: overlayfs reads it as a whiteout;
* hard links to a whiteout;
* device nodes at all when ``Limits.allow_devices`` is false;
* declared sizes beyond ``Limits.max_bytes``, beyond the free space of the
  destination filesystem, or sparse files declaring more than
  ``Limits.max_sparse_bytes`` of holes (a few KB of tar can declare 10 GB).
"""

from __future__ import annotations

import errno
import io
import os
import posixpath
import shutil
import stat
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator, cast

from dockyard.core.digest import Digest, Hasher
from dockyard.errors import DigestMismatch, EngineError, InvalidArgument, PermissionDenied
from dockyard.image.compression import DECOMPRESS_ERRORS, compression_of, decompress

__all__ = ["AppliedLayer", "Limits", "apply_layer", "clean_name", "compression_of", "iter_names"]

WHITEOUT_PREFIX = ".wh."
WHITEOUT_META_PREFIX = ".wh..wh."
WHITEOUT_OPAQUE = ".wh..wh..opq"
OPAQUE_XATTR = "trusted.overlay.opaque"
_XATTR_PAX = "SCHILY.xattr."
_READ_SIZE = 1 << 20
_MAX_CACHED_DIRS = 256
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True, slots=True)
class Limits:
    max_entries: int = 1_000_000
    max_bytes: int = 64 << 30  # uncompressed tar stream
    max_name: int = 4096
    max_sparse_bytes: int = 1 << 30  # holes all sparse entries of a layer may declare
    allow_devices: bool = True  # Docker allows device nodes in images; untrusted imports may not


@dataclass(frozen=True, slots=True)
class AppliedLayer:
    diff_id: Digest  # sha256 of the uncompressed tar stream
    size: int  # bytes of the uncompressed tar stream
    compression: str  # "", "gzip" or "zstd"


def apply_layer(stream: BinaryIO, dest: str | os.PathLike[str], *, expected_diff_id: str | None = None,
                limits: Limits = Limits()) -> AppliedLayer:
    """Unpack ``stream`` into the existing directory ``dest``; see the module docstring.

    Raises InvalidArgument (bad or unsafe entry), DigestMismatch (DiffID differs
    from ``expected_diff_id``) or PermissionDenied (whiteouts need root); in
    every case ``dest`` has been removed.
    """
    dest = Path(dest)
    try:
        compression, raw = decompress(stream)
        reader = _HashingReader(raw, limits.max_bytes)
        root_fd = os.open(dest, _DIR_FLAGS)
        try:
            _Unpacker(root_fd, limits).run(reader)
        finally:
            os.close(root_fd)
        while reader.read(1 << 16):  # the DiffID covers the tar's trailing padding too
            pass
        applied = AppliedLayer(reader.hasher.digest(), reader.hasher.size, compression)
        if expected_diff_id is not None and applied.diff_id != expected_diff_id:
            raise DigestMismatch(f"layer diff id mismatch: got {applied.diff_id}, expected {expected_diff_id}")
        return applied
    except BaseException as exc:
        shutil.rmtree(dest, ignore_errors=True)
        if isinstance(exc, EngineError):
            raise
        if isinstance(exc, (tarfile.TarError, OSError, ValueError, *DECOMPRESS_ERRORS)):
            raise InvalidArgument(f"invalid layer tar: {exc}") from exc
        raise


class _HashingReader:
    """The uncompressed stream, hashed as it is read; seekable forwards only.

    tarfile is used in its random-access mode ("r:") over this reader: file
    data is then read straight from it in large blocks (the stream mode "r|"
    copies everything through 10 KB records), and tarfile only ever seeks
    forwards, which reads (and hashes) the bytes skipped.  A 1 MB buffer lets
    the inflater and sha256 (both release the GIL) work on large blocks, so
    layers unpacked in parallel threads really overlap.
    """

    def __init__(self, raw: BinaryIO, max_bytes: int) -> None:
        self._raw = _HashingRaw(raw, max_bytes)
        self._buf = io.BufferedReader(self._raw, _READ_SIZE)  # type: ignore[arg-type]
        self.hasher = self._raw.hasher
        self._pos = 0

    def read(self, n: int = -1) -> bytes:
        data = self._buf.read(n)
        self._pos += len(data)
        return data

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            pos += self._pos
        elif whence != io.SEEK_SET:
            raise io.UnsupportedOperation("a layer stream seeks forwards only")
        if pos < self._pos:
            raise io.UnsupportedOperation(f"a layer stream seeks forwards only ({self._pos} -> {pos})")
        while self._pos < pos and self.read(min(pos - self._pos, _READ_SIZE)):
            pass
        return self._pos


class _HashingRaw(io.RawIOBase):
    def __init__(self, raw: BinaryIO, max_bytes: int) -> None:
        super().__init__()
        self._raw = raw
        self._max = max_bytes
        self.hasher = Hasher()

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(b))
        n = len(data)
        b[:n] = data
        self.hasher.update(data)
        if self.hasher.size > self._max:
            raise InvalidArgument(f"layer is larger than the limit of {self._max} bytes")
        return n


def clean_name(name: str) -> list[str]:
    """Path components of a tar entry name inside the root; [] is the root itself.

    A leading "/" is stripped (Docker does the same); ".." that would leave
    the root is refused.
    """
    if "\x00" in name:
        raise InvalidArgument(f"invalid layer entry {name!r}: NUL in name")
    p = posixpath.normpath(name.lstrip("/")) if name.strip("/") else "."
    if p == ".." or p.startswith("../"):
        raise InvalidArgument(f"invalid layer entry {name!r}: path escapes the layer root")
    return [] if p == "." else p.split("/")


class _Unpacker:
    def __init__(self, root_fd: int, limits: Limits) -> None:
        self._root = root_fd
        # Parent directories opened so far (path -> O_NOFOLLOW fd): entries of a
        # layer come grouped by directory, so most need no open() per component.
        # Only our own rmtree can replace a cached directory; _clear drops those.
        self._dirs: dict[tuple[str, ...], int] = {}
        self._limits = limits
        self._is_root = os.geteuid() == 0
        self._dir_times: list[tuple[list[str], int]] = []
        self._names: set[tuple[str, ...]] = set()  # entries of this layer (for whiteout collisions)
        self._whiteouts: set[tuple[str, ...]] = set()  # names this layer whites out
        self._declared = 0  # bytes regular files will occupy once written
        self._holes = 0
        vfs = os.fstatvfs(root_fd)
        self._free = vfs.f_bavail * vfs.f_frsize

    def _account(self, m: tarfile.TarInfo) -> None:
        """Refuse size bombs from the headers, before writing a byte of them."""
        if not m.isreg():
            return
        self._declared += m.size
        if m.issparse():
            # typeshed says bytes; tarfile actually stores (offset, size) pairs
            sparse = cast("list[tuple[int, int]] | None", m.sparse)
            self._holes += m.size - sum(n for _, n in sparse or ())
            if self._holes > self._limits.max_sparse_bytes:
                raise InvalidArgument(
                    f"invalid layer entry {m.name!r}: sparse file declares {m.size} bytes; sparse files may "
                    f"declare at most {self._limits.max_sparse_bytes} bytes of holes per layer")
        if self._declared > self._limits.max_bytes:
            raise InvalidArgument(
                f"invalid layer entry {m.name!r}: layer is larger than the limit of {self._limits.max_bytes} bytes")
        if self._declared > self._free:
            raise InvalidArgument(
                f"invalid layer entry {m.name!r}: layer declares {self._declared} bytes but only {self._free} "
                "bytes are free on the destination filesystem")

    def run(self, reader: _HashingReader) -> None:
        try:
            self._run(reader)
        finally:
            self._forget(())

    def _run(self, reader: _HashingReader) -> None:
        tf = tarfile.TarFile(fileobj=reader, mode="r", errors="surrogateescape")  # type: ignore[arg-type]
        count = 0
        for m in tf:
            count += 1
            if count > self._limits.max_entries:
                raise InvalidArgument(f"layer has more than {self._limits.max_entries} entries")
            if len(m.name) > self._limits.max_name:
                raise InvalidArgument(f"invalid layer entry {m.name[:64]!r}...: name too long")
            try:
                self._account(m)
                self._entry(tf, m)
            except EngineError:
                raise
            except PermissionError as exc:
                raise PermissionDenied(f"layer entry {m.name!r}: {exc.strerror}") from exc
            except OSError as exc:
                raise InvalidArgument(f"invalid layer entry {m.name!r}: {exc.strerror or exc}") from exc
        # Deepest first, so setting a child's time never disturbs a parent's.
        for parts, mtime in sorted(self._dir_times, key=lambda t: -len(t[0])):
            with self._parent(parts, m_name="/".join(parts), create=False) as pfd:
                os.utime(parts[-1], ns=(mtime, mtime), dir_fd=pfd, follow_symlinks=False)

    # -- per entry -------------------------------------------------------------
    def _entry(self, tf: tarfile.TarFile, m: tarfile.TarInfo) -> None:
        parts = clean_name(m.name)
        if not parts:
            return  # the root itself: its metadata belongs to the snapshot, not the layer
        base = parts[-1]
        self._check_names(parts, m)
        with self._parent(parts, m.name) as pfd:
            if base == WHITEOUT_OPAQUE:
                self._xattr(pfd, OPAQUE_XATTR, b"y", m.name)
                return
            if base.startswith(WHITEOUT_META_PREFIX):
                return  # aufs bookkeeping (.wh..wh.plnk etc.): not part of the filesystem
            if base.startswith(WHITEOUT_PREFIX):
                hidden = base[len(WHITEOUT_PREFIX):]
                if hidden in ("", ".", ".."):
                    raise InvalidArgument(f"invalid layer entry {m.name!r}: bad whiteout name")
                self._clear(pfd, parts[:-1], hidden, keep_dir=False)
                try:
                    os.mknod(hidden, stat.S_IFCHR, os.makedev(0, 0), dir_fd=pfd)
                except PermissionError as exc:
                    raise PermissionDenied(f"layer entry {m.name!r}: creating a whiteout needs root") from exc
                self._owner(hidden, pfd, m)
                return
            self._clear(pfd, parts[:-1], base, keep_dir=m.isdir())
            if m.isdir():
                self._mkdir(pfd, base, m, parts)
            elif m.isreg():
                self._file(tf, pfd, base, m)
            elif m.issym():
                os.symlink(m.linkname, base, dir_fd=pfd)
                self._owner(base, pfd, m)
                os.utime(base, ns=(_ns(m), _ns(m)), dir_fd=pfd, follow_symlinks=False)
            elif m.islnk():
                self._hardlink(pfd, base, m)
            elif m.ischr() or m.isblk() or m.isfifo():
                self._special(pfd, base, m)
            else:
                raise InvalidArgument(f"invalid layer entry {m.name!r}: unsupported type {m.type!r}")

    def _check_names(self, parts: list[str], m: tarfile.TarInfo) -> None:
        """Whiteouts apply to lower layers only: a name may not be both whited out and present here."""
        for i, comp in enumerate(parts[:-1]):
            if comp.startswith(WHITEOUT_PREFIX):
                raise InvalidArgument(f"invalid layer entry {m.name!r}: whiteout {comp!r} used as a directory")
            if tuple(parts[: i + 1]) in self._whiteouts:
                raise InvalidArgument(f"invalid layer entry {m.name!r}: parent {comp!r} is whited out in this layer")
        base = parts[-1]
        if base == WHITEOUT_OPAQUE or base.startswith(WHITEOUT_META_PREFIX):
            return
        if base.startswith(WHITEOUT_PREFIX):
            key = (*parts[:-1], base[len(WHITEOUT_PREFIX):])
            if key in self._names:
                raise InvalidArgument(
                    f"invalid layer entry {m.name!r}: {'/'.join(key)!r} is both whited out and present in this layer")
            self._whiteouts.add(key)
            return
        key = tuple(parts)
        if key in self._whiteouts:
            raise InvalidArgument(
                f"invalid layer entry {m.name!r}: {'/'.join(key)!r} is both whited out and present in this layer")
        self._names.add(key)
        if (m.ischr() or m.isblk()) and not self._limits.allow_devices:
            raise InvalidArgument(f"invalid layer entry {m.name!r}: device nodes are not allowed here")
        if m.ischr() and m.devmajor == 0 and m.devminor == 0:
            raise InvalidArgument(
                f"invalid layer entry {m.name!r}: character device 0/0 is an overlay whiteout; "
                "layers must use .wh. files")

    def _mkdir(self, pfd: int, base: str, m: tarfile.TarInfo, parts: list[str]) -> None:
        try:
            os.mkdir(base, 0o700, dir_fd=pfd)
        except FileExistsError:
            pass
        fd = os.open(base, _DIR_FLAGS, dir_fd=pfd)
        try:
            self._fmeta(fd, m)
        finally:
            os.close(fd)
        self._dir_times.append((parts, _ns(m)))

    def _file(self, tf: tarfile.TarFile, pfd: int, base: str, m: tarfile.TarInfo) -> None:
        fd = os.open(base, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=pfd)
        try:
            src = tf.extractfile(m)
            if src is not None:
                while chunk := src.read(1 << 20):
                    _write_all(fd, chunk)
            self._fmeta(fd, m)
            os.utime(fd, ns=(_ns(m), _ns(m)))
        finally:
            os.close(fd)

    def _hardlink(self, pfd: int, base: str, m: tarfile.TarInfo) -> None:
        target = clean_name(m.linkname)
        if not target:
            raise InvalidArgument(f"invalid layer entry {m.name!r}: hard link to the root")
        with self._parent(target, m.name, create=False) as tfd:
            try:
                st = os.stat(target[-1], dir_fd=tfd, follow_symlinks=False)
            except FileNotFoundError:
                raise InvalidArgument(
                    f"invalid layer entry {m.name!r}: hard link target {m.linkname!r} not found") from None
            if stat.S_ISDIR(st.st_mode):
                raise InvalidArgument(f"invalid layer entry {m.name!r}: hard link to a directory")
            if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                raise InvalidArgument(f"invalid layer entry {m.name!r}: hard link to a whiteout")
            os.link(target[-1], base, src_dir_fd=tfd, dst_dir_fd=pfd, follow_symlinks=False)

    def _special(self, pfd: int, base: str, m: tarfile.TarInfo) -> None:
        if m.isfifo():
            os.mkfifo(base, 0o600, dir_fd=pfd)
        else:
            kind = stat.S_IFCHR if m.ischr() else stat.S_IFBLK
            try:
                os.mknod(base, kind | 0o600, os.makedev(m.devmajor, m.devminor), dir_fd=pfd)
            except PermissionError:
                if self._is_root:
                    raise
                return  # unprivileged: skip device nodes, as rootless Docker does
        self._owner(base, pfd, m)
        os.chmod(base, m.mode & 0o7777, dir_fd=pfd)  # we just created it: not a symlink
        os.utime(base, ns=(_ns(m), _ns(m)), dir_fd=pfd, follow_symlinks=False)

    # -- helpers ---------------------------------------------------------------
    def _parent(self, parts: list[str], m_name: str, create: bool = True) -> "_Fd":
        """The parent directory of ``parts``, each component opened without following a symlink."""
        want = tuple(parts[:-1])
        cached = self._dirs.get(want)
        if cached is not None:
            return _Fd(cached, owned=False)
        if len(self._dirs) > _MAX_CACHED_DIRS:
            self._forget(())
        start, fd = 0, self._root
        for k in range(len(want) - 1, 0, -1):
            if want[:k] in self._dirs:
                start, fd = k, self._dirs[want[:k]]
                break
        for i in range(start, len(want)):
            comp = want[i]
            try:
                nfd = os.open(comp, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise InvalidArgument(f"invalid layer entry {m_name!r}: {'/'.join(parts)} not found") from None
                os.mkdir(comp, 0o755, dir_fd=fd)
                nfd = os.open(comp, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise InvalidArgument(
                        f"invalid layer entry {m_name!r}: parent {comp!r} is a symlink or not a directory"
                    ) from None
                raise
            self._dirs[want[: i + 1]] = fd = nfd
        return _Fd(fd, owned=False)

    def _forget(self, below: tuple[str, ...]) -> None:
        """Close cached directory fds at or under ``below`` (() = all)."""
        n = len(below)
        for key in [k for k in self._dirs if k[:n] == below]:
            os.close(self._dirs.pop(key))

    def _clear(self, pfd: int, where: list[str], base: str, keep_dir: bool) -> None:
        """Remove whatever is at ``base`` (in ``pfd``, path ``where``) so a new entry replaces it (dirs merge)."""
        try:
            st = os.stat(base, dir_fd=pfd, follow_symlinks=False)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(st.st_mode):
            if not keep_dir:
                self._forget((*where, base))  # cached fds below would point into the removed tree
                shutil.rmtree(base, dir_fd=pfd)
        else:
            os.unlink(base, dir_fd=pfd)

    def _owner(self, base: str, pfd: int, m: tarfile.TarInfo) -> None:
        if self._is_root:
            os.chown(base, m.uid, m.gid, dir_fd=pfd, follow_symlinks=False)

    def _fmeta(self, fd: int, m: tarfile.TarInfo) -> None:
        # chown before chmod: chown clears setuid/setgid bits.
        if self._is_root:
            os.fchown(fd, m.uid, m.gid)
        os.fchmod(fd, m.mode & 0o7777)
        for key, value in m.pax_headers.items():
            if key.startswith(_XATTR_PAX):
                name = key[len(_XATTR_PAX):]
                if name.startswith("trusted.overlay."):
                    continue  # overlay's own metadata: only whiteout handling may set it
                self._xattr(fd, name, value.encode("utf-8", "surrogateescape"), m.name)

    def _xattr(self, fd: int, name: str, value: bytes, entry: str) -> None:
        try:
            os.setxattr(fd, name, value)
        except OSError as exc:
            if exc.errno == errno.ENOTSUP:
                return
            if exc.errno == errno.EPERM:
                if name.startswith("trusted.") or self._is_root:
                    raise PermissionDenied(f"layer entry {entry!r}: setting xattr {name} needs root") from exc
                return
            raise


class _Fd:
    def __init__(self, fd: int, owned: bool = True) -> None:
        self.fd = fd
        self.owned = owned

    def __enter__(self) -> int:
        return self.fd

    def __exit__(self, *exc: object) -> None:
        if self.owned:
            os.close(self.fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _ns(m: tarfile.TarInfo) -> int:
    return int(m.mtime * 1_000_000_000)


def iter_names(stream: BinaryIO) -> Iterator[str]:
    """Entry names of a (possibly compressed) layer, for tests and diagnostics."""
    _, raw = decompress(stream)
    with tarfile.open(fileobj=raw, mode="r|") as tf:  # type: ignore[call-overload]
        for m in tf:
            yield m.name
