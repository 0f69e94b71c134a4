"""Content-addressed blob storage, as small role interfaces (containerd ``core/content``).

Lifecycle of one blob::

    w = store.writer("layer-upload-1")      # an ingest, identified by a caller-chosen ref
    w.write(chunk); w.write(chunk)          # any number of times
    info = w.commit(size, expected_digest)  # verify, then publish atomically (or DigestMismatch)
    with store.open(info.digest) as f: ...  # readers see only committed blobs

Consumers that only read take a ``ContentReader``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import BinaryIO, Iterator, Mapping, Protocol

from dockyard.core.digest import Digest


@dataclass(frozen=True, slots=True)
class BlobInfo:
    digest: Digest
    size: int
    created_at: float = 0.0  # unix seconds
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IngestStatus:
    ref: str
    offset: int  # bytes written so far
    total: int = -1  # expected size, -1 if unknown
    expected: str = ""  # expected digest, "" if unknown
    started_at: float = 0.0


class ContentWriter(Protocol):
    """An in-progress write ("ingest"). Usable as a context manager: aborts unless committed."""

    def write(self, data: bytes) -> int: ...

    def status(self) -> IngestStatus: ...

    def digest(self) -> Digest:
        """Digest of what has been written so far."""
        ...

    def commit(self, size: int, expected: Digest | str) -> BlobInfo:
        """Verify size and digest, then publish atomically; DigestMismatch leaves nothing behind.

        Committing a blob that already exists succeeds and returns its info.
        """
        ...

    def abort(self) -> None: ...

    def __enter__(self) -> "ContentWriter": ...

    def __exit__(self, *exc: object) -> None: ...


class ContentReader(Protocol):
    def info(self, digest: Digest | str) -> BlobInfo:
        """NotFound if absent."""
        ...

    def open(self, digest: Digest | str) -> BinaryIO:
        """A seekable, read-only file; NotFound if absent."""
        ...

    def exists(self, digest: Digest | str) -> bool: ...


class ContentStore(ContentReader, Protocol):
    def writer(self, ref: str, expected_size: int = -1, expected: Digest | str = "") -> ContentWriter:
        """Start an ingest; Unavailable if ``ref`` is being written by someone else."""
        ...

    def ingests(self) -> list[IngestStatus]: ...

    def delete(self, digest: Digest | str) -> None:
        """NotFound if absent."""
        ...

    def walk(self) -> Iterator[BlobInfo]: ...
