"""LocalContentStore: blobs on disk, addressed by digest.

Layout under the data root::

    content/blobs/sha256/<hex>          committed, immutable blobs (mode 0444)
    content/ingest/<sha256(ref)>/       one in-progress write
        ref                             the caller's ref, for ``ingests()``
        data                            bytes written so far

Commit order: fsync data -> verify size and digest -> rename into blobs/ ->
fsync blobs/ -> remove the ingest dir.  A crash before the rename leaves only
an ingest dir (cleaned by ``ingests``/GC); after it, a complete blob.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
from pathlib import Path
from typing import BinaryIO, Iterator

from dockyard.core.content import BlobInfo, IngestStatus
from dockyard.core.digest import Digest, Hasher, is_digest
from dockyard.errors import DigestMismatch, Internal, InvalidArgument, NotFound, Unavailable


def _digest(value: Digest | str) -> Digest:
    return value if isinstance(value, Digest) else Digest(value)


class LocalContentStore:
    """Implements ``core.content.ContentStore`` under ``<root>/content``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root) / "content"
        self.blobs = self.root / "blobs" / "sha256"
        self.ingest_root = self.root / "ingest"
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.ingest_root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._active: set[str] = set()

    # -- reading -------------------------------------------------------------
    def path(self, digest: Digest | str) -> Path:
        return self.blobs / _digest(digest).hex

    def info(self, digest: Digest | str) -> BlobInfo:
        d = _digest(digest)
        try:
            st = os.stat(self.path(d))
        except FileNotFoundError:
            raise NotFound(f"content {d}: not found") from None
        return BlobInfo(d, st.st_size, st.st_mtime)

    def exists(self, digest: Digest | str) -> bool:
        return self.path(digest).is_file()

    def open(self, digest: Digest | str) -> BinaryIO:
        d = _digest(digest)
        try:
            return open(self.path(d), "rb")
        except FileNotFoundError:
            raise NotFound(f"content {d}: not found") from None

    def read(self, digest: Digest | str, limit: int = 64 << 20) -> bytes:
        """Whole blob in memory (for manifests and configs); InvalidArgument above ``limit``."""
        info = self.info(digest)
        if info.size > limit:
            raise InvalidArgument(f"content {info.digest}: too large ({info.size} bytes)")
        with self.open(digest) as f:
            return f.read()

    def walk(self) -> Iterator[BlobInfo]:
        for entry in sorted(os.scandir(self.blobs), key=lambda e: e.name):
            if entry.is_file() and is_digest("sha256:" + entry.name):
                st = entry.stat()
                yield BlobInfo(Digest.from_hex(entry.name), st.st_size, st.st_mtime)

    def delete(self, digest: Digest | str) -> None:
        try:
            os.unlink(self.path(digest))
        except FileNotFoundError:
            raise NotFound(f"content {digest}: not found") from None

    # -- writing -------------------------------------------------------------
    def writer(self, ref: str, expected_size: int = -1, expected: Digest | str = "") -> "LocalWriter":
        if not ref:
            raise InvalidArgument("ingest ref must not be empty")
        with self._lock:
            if ref in self._active:
                raise Unavailable(f"ref {ref} is locked: another write is in progress")
            self._active.add(ref)
        try:
            d = self.ingest_root / hashlib.sha256(ref.encode()).hexdigest()
            # A leftover from a crash is restarted rather than resumed: simpler, always correct.
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir(parents=True)
            (d / "ref").write_text(ref)
            return LocalWriter(self, ref, d, expected_size, str(expected) if expected else "")
        except BaseException:
            self._release(ref)
            raise

    def ingests(self) -> list[IngestStatus]:
        out = []
        for entry in os.scandir(self.ingest_root):
            try:
                ref = Path(entry.path, "ref").read_text()
                st = os.stat(Path(entry.path, "data"))
            except OSError:
                continue
            out.append(IngestStatus(ref, st.st_size, started_at=st.st_ctime))
        return out

    def _release(self, ref: str) -> None:
        with self._lock:
            self._active.discard(ref)


class LocalWriter:
    """One ingest of a LocalContentStore (``core.content.ContentWriter``)."""

    def __init__(self, store: LocalContentStore, ref: str, dir: Path, total: int, expected: str) -> None:
        self._store = store
        self._ref = ref
        self._dir = dir
        self._file: BinaryIO | None = open(dir / "data", "xb")
        self._hasher = Hasher()
        self._total = total
        self._expected = expected
        self._started = time.time()

    def write(self, data: bytes) -> int:
        if self._file is None:
            raise Internal("write after commit or abort")
        self._file.write(data)
        self._hasher.update(data)
        return len(data)

    def digest(self) -> Digest:
        return self._hasher.digest()

    def status(self) -> IngestStatus:
        return IngestStatus(self._ref, self._hasher.size, self._total, self._expected, self._started)

    def commit(self, size: int, expected: Digest | str) -> BlobInfo:
        if self._file is None:
            raise Internal("commit after commit or abort")
        want = _digest(expected)
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None
            got = self._hasher.digest()
            if self._hasher.size != size:
                raise DigestMismatch(f"unexpected commit size {self._hasher.size}, expected {size}")
            if got != want:
                raise DigestMismatch(f"unexpected commit digest {got}, expected {want}")
            dst = self._store.path(want)
            if not dst.exists():
                os.chmod(self._dir / "data", 0o444)
                os.rename(self._dir / "data", dst)
                _fsync_dir(self._store.blobs)
            return self._store.info(want)
        finally:
            self.abort()

    def abort(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._dir.exists():
            shutil.rmtree(self._dir, ignore_errors=True)
            self._store._release(self._ref)

    def __enter__(self) -> "LocalWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.abort()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
