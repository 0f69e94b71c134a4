"""Snapshot bookkeeping: which numbered directory holds which key, its parent and kind.

Kept in ``<snapshotter root>/metadata.db`` (SQLite, WAL) so a snapshotter is
self-contained, as containerd's overlay plugin keeps its own ``metadata.db``::

    snapshots
    ├── id       INTEGER PK AUTOINCREMENT   the directory number: <root>/<id>/{fs,work}
    ├── key      TEXT UNIQUE                key (active/view) or name (committed)
    ├── parent   TEXT                       committed name or ""
    ├── kind     TEXT                       "active" | "view" | "committed"
    ├── labels   TEXT                       JSON
    ├── created  REAL, updated REAL         unix seconds
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping

from dockyard.core.snapshots import SnapshotInfo, SnapshotKind
from dockyard.errors import AlreadyExists, Conflict, NotFound

_SCHEMA = """
CREATE TABLE IF NOT EXISTS snapshots (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    parent TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    labels TEXT NOT NULL DEFAULT '{}',
    created REAL NOT NULL,
    updated REAL NOT NULL
)
"""


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    info: SnapshotInfo


class MetaStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self._lock = threading.RLock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: every commit is atomic and survives a daemon crash (the
            # WAL is in the page cache); only a power loss can drop the newest
            # ones.  Layer files are not fsynced either (Docker's policy), so a
            # WAL fsync per prepare/commit/remove would buy no durability and cost
            # most of a pull's snapshot bookkeeping.
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute(_SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Callers hold this across "check, then create/remove the directory" steps."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def get(self, c: sqlite3.Connection, key: str) -> Entry:
        row = c.execute("SELECT * FROM snapshots WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise NotFound(f"snapshot {key}: not found")
        return _entry(row)

    def find(self, c: sqlite3.Connection, key: str) -> Entry | None:
        row = c.execute("SELECT * FROM snapshots WHERE key = ?", (key,)).fetchone()
        return None if row is None else _entry(row)

    def create(self, c: sqlite3.Connection, key: str, parent: str, kind: SnapshotKind,
               labels: Mapping[str, str] | None) -> Entry:
        if self.find(c, key) is not None:
            raise AlreadyExists(f"snapshot {key}: already exists")
        if parent:
            p = self.get(c, parent)
            if p.info.kind is not SnapshotKind.COMMITTED:
                raise InvalidParent(f"snapshot {parent}: parent is not committed")
        now = time.time()
        cur = c.execute(
            "INSERT INTO snapshots (key, parent, kind, labels, created, updated) VALUES (?, ?, ?, ?, ?, ?)",
            (key, parent, kind.value, json.dumps(dict(labels or {})), now, now),
        )
        return self.get(c, key) if cur.lastrowid is None else Entry(
            cur.lastrowid, SnapshotInfo(kind, key, parent, dict(labels or {}), now, now))

    def commit(self, c: sqlite3.Connection, name: str, key: str, labels: Mapping[str, str] | None) -> Entry:
        e = self.get(c, key)
        if e.info.kind is not SnapshotKind.ACTIVE:
            raise Conflict(f"snapshot {key}: only active snapshots can be committed")
        if self.find(c, name) is not None:
            raise AlreadyExists(f"snapshot {name}: already exists")
        merged = {**e.info.labels, **(labels or {})}
        c.execute("UPDATE snapshots SET key = ?, kind = ?, labels = ?, updated = ? WHERE id = ?",
                  (name, SnapshotKind.COMMITTED.value, json.dumps(merged), time.time(), e.id))
        return self.get(c, name)

    def remove(self, c: sqlite3.Connection, key: str) -> Entry:
        e = self.get(c, key)
        if c.execute("SELECT 1 FROM snapshots WHERE parent = ? LIMIT 1", (key,)).fetchone():
            raise Conflict(f"snapshot {key}: cannot remove, it has children")
        c.execute("DELETE FROM snapshots WHERE id = ?", (e.id,))
        return e

    def chain(self, c: sqlite3.Connection, key: str) -> list[Entry]:
        """``key`` and its ancestors, top first."""
        out = [self.get(c, key)]
        while out[-1].info.parent:
            out.append(self.get(c, out[-1].info.parent))
        return out

    def all(self, c: sqlite3.Connection) -> list[Entry]:
        return [_entry(r) for r in c.execute("SELECT * FROM snapshots ORDER BY id").fetchall()]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class InvalidParent(Conflict):
    pass


def _entry(row: tuple[int, str, str, str, str, float, float]) -> Entry:
    id_, key, parent, kind, labels, created, updated = row
    return Entry(id_, SnapshotInfo(SnapshotKind(kind), key, parent, json.loads(labels), created, updated))
