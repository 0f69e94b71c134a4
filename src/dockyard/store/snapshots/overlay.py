"""OverlaySnapshotter: snapshots as overlayfs layer directories; computes mounts, never mounts.

Layout under ``<root>/snapshots/overlay``::

    metadata.db          see ``meta.py``
    <n>/fs               the layer's files (upperdir while active, a lowerdir once committed)
    <n>/work             overlay workdir (active snapshots only need it)

``prepare(key, parent)`` on a parent chain c1 <- c2 <- c3 returns one overlay
mount ``lowerdir=<c3>/fs:<c2>/fs:<c1>/fs,upperdir=<new>/fs,workdir=<new>/work``
(lowerdir is top first, as overlayfs expects); with no parent it returns a
bind mount of the empty ``fs`` dir.  Committed layer snapshots are named by
chain id, so images sharing layers share directories.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterator, Mapping

from dockyard.core.mount import Mount
from dockyard.core.snapshots import SnapshotInfo, SnapshotKind, Usage
from dockyard.errors import InvalidArgument
from dockyard.store.snapshots.meta import Entry, MetaStore


class OverlaySnapshotter:
    """``core.snapshots.Snapshotter`` for overlayfs."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root) / "snapshots" / "overlay"
        self.root.mkdir(parents=True, exist_ok=True)
        self._meta = MetaStore(self.root / "metadata.db")

    def _dir(self, e: Entry) -> Path:
        return self.root / str(e.id)

    def stat(self, key: str) -> SnapshotInfo:
        with self._meta.transaction() as c:
            return self._meta.get(c, key).info

    def exists(self, key: str) -> bool:
        with self._meta.transaction() as c:
            return self._meta.find(c, key) is not None

    def prepare(self, key: str, parent: str | None = None, labels: Mapping[str, str] | None = None) -> list[Mount]:
        return self._create(SnapshotKind.ACTIVE, key, parent, labels)

    def view(self, key: str, parent: str | None = None, labels: Mapping[str, str] | None = None) -> list[Mount]:
        return self._create(SnapshotKind.VIEW, key, parent, labels)

    def _create(self, kind: SnapshotKind, key: str, parent: str | None,
                labels: Mapping[str, str] | None) -> list[Mount]:
        if not key:
            raise InvalidArgument("snapshot key must not be empty")
        with self._meta.transaction() as c:
            e = self._meta.create(c, key, parent or "", kind, labels)
            d = self._dir(e)
            # A directory left by a crash between mkdir and COMMIT would carry stale files.
            shutil.rmtree(d, ignore_errors=True)
            try:
                (d / "fs").mkdir(parents=True, mode=0o755)
                if kind is SnapshotKind.ACTIVE:
                    (d / "work").mkdir(mode=0o700)
            except BaseException:
                shutil.rmtree(d, ignore_errors=True)
                raise
            return self._mounts(self._meta.chain(c, key))

    def mounts(self, key: str) -> list[Mount]:
        with self._meta.transaction() as c:
            return self._mounts(self._meta.chain(c, key))

    def _mounts(self, chain: list[Entry]) -> list[Mount]:
        top, parents = chain[0], chain[1:]
        if top.info.kind is SnapshotKind.ACTIVE:
            if not parents:
                return [Mount("bind", str(self._dir(top) / "fs"), options=("rbind", "rw"))]
            lower = ":".join(str(self._dir(p) / "fs") for p in parents)
            return [Mount("overlay", "overlay", options=(
                f"lowerdir={lower}", f"upperdir={self._dir(top) / 'fs'}", f"workdir={self._dir(top) / 'work'}"))]
        # Views and committed snapshots are read-only: a view's own fs is empty, so
        # it is left out; a committed one is its own top layer.
        layers = parents if top.info.kind is SnapshotKind.VIEW else chain
        if not layers:
            return [Mount("bind", str(self._dir(top) / "fs"), options=("rbind", "ro"))]
        if len(layers) == 1:
            return [Mount("bind", str(self._dir(layers[0]) / "fs"), options=("rbind", "ro"))]
        lower = ":".join(str(self._dir(p) / "fs") for p in layers)
        return [Mount("overlay", "overlay", options=(f"lowerdir={lower}",))]

    def commit(self, name: str, key: str, labels: Mapping[str, str] | None = None) -> None:
        with self._meta.transaction() as c:
            e = self._meta.commit(c, name, key, labels)
        shutil.rmtree(self._dir(e) / "work", ignore_errors=True)

    def remove(self, key: str) -> None:
        with self._meta.transaction() as c:
            e = self._meta.remove(c, key)
            # Rename first so a crash never leaves a half-deleted dir under a live id.
            d = self._dir(e)
            trash = self.root / f"rm-{e.id}"
            if d.exists():
                os.rename(d, trash)
        shutil.rmtree(trash, ignore_errors=True)

    def usage(self, key: str) -> Usage:
        with self._meta.transaction() as c:
            d = self._dir(self._meta.get(c, key)) / "fs"
        size = inodes = 0
        seen: set[tuple[int, int]] = set()
        for dirpath, dirnames, filenames in os.walk(d):
            for n in dirnames + filenames:
                st = os.lstat(os.path.join(dirpath, n))
                if (st.st_dev, st.st_ino) in seen:
                    continue
                seen.add((st.st_dev, st.st_ino))
                inodes += 1
                size += st.st_size  # apparent size, as Docker's overlay2 reports
        return Usage(size, inodes)

    def walk(self) -> Iterator[SnapshotInfo]:
        with self._meta.transaction() as c:
            entries = self._meta.all(c)
        for e in entries:
            yield e.info

    def close(self) -> None:
        self._meta.close()
