"""SqliteStateDB: typed record stores over one SQLite file (schema in ``schema.py``).

Concurrency: one connection (``check_same_thread=False``) guarded by a
re-entrant lock.  ``transaction()`` holds the lock for its whole body, and the
stores' own calls join an open transaction on the same thread, so a multi-step
change (e.g. load: retag + create) commits or rolls back as one.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

from dockyard.core import reference
from dockyard.core.containers import ContainerConfig, ContainerRecord, ContainerState
from dockyard.core.images import ImageRecord, is_dangling
from dockyard.errors import AlreadyExists, ImageNotFound, InvalidArgument, NotFound
from dockyard.oci.image import Descriptor
from dockyard.store.statedb import schema


class SqliteStateDB:
    """The daemon's record database; ``path`` may be ":memory:" for tests."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._lock = threading.RLock()
        self._depth = 0
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            schema.migrate(self._conn)
        self.images = SqliteImageStore(self)
        self.containers = SqliteContainerStore(self)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of work; nested calls on the same thread join the outer one."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self._conn
            except BaseException:
                self._depth -= 1
                if outer:
                    self._conn.execute("ROLLBACK")
                raise
            else:
                self._depth -= 1
                if outer:
                    self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class SqliteImageStore:
    """``core.images.ImageStore`` over the ``images`` table."""

    def __init__(self, db: SqliteStateDB) -> None:
        self._db = db

    def get(self, name: str) -> ImageRecord:
        with self._db.transaction() as c:
            row = c.execute("SELECT * FROM images WHERE name = ?", (name,)).fetchone()
        if row is None:
            shown = "" if is_dangling(name) else reference.familiar(name)
            raise ImageNotFound(f"No such image: {shown or name}")
        return _image(row)

    def list(self, match: Callable[[ImageRecord], bool] | None = None) -> list[ImageRecord]:
        with self._db.transaction() as c:
            rows = c.execute("SELECT * FROM images ORDER BY name").fetchall()
        records = [_image(r) for r in rows]
        return [r for r in records if match is None or match(r)]

    def by_id(self, image_id: str) -> builtins.list[ImageRecord]:
        with self._db.transaction() as c:
            rows = c.execute("SELECT * FROM images WHERE config_digest = ? ORDER BY name", (image_id,)).fetchall()
        return [_image(r) for r in rows]

    def create(self, record: ImageRecord) -> ImageRecord:
        with self._db.transaction() as c:
            try:
                c.execute("INSERT INTO images VALUES (?, ?, ?, ?, ?)", _image_row(record))
            except sqlite3.IntegrityError:
                raise AlreadyExists(f"image {record.name}: already exists") from None
        return record

    def update(self, record: ImageRecord) -> ImageRecord:
        with self._db.transaction() as c:
            self.get(record.name)
            c.execute("DELETE FROM images WHERE name = ?", (record.name,))
            c.execute("INSERT INTO images VALUES (?, ?, ?, ?, ?)", _image_row(record))
        return record

    def put(self, record: ImageRecord) -> ImageRecord:
        with self._db.transaction() as c:
            c.execute("INSERT OR REPLACE INTO images VALUES (?, ?, ?, ?, ?)", _image_row(record))
        return record

    def delete(self, name: str) -> None:
        with self._db.transaction() as c:
            if c.execute("DELETE FROM images WHERE name = ?", (name,)).rowcount == 0:
                self.get(name)  # raises ImageNotFound with Docker's text


def _image_row(r: ImageRecord) -> tuple[str, str, str, str, str]:
    return (r.name, json.dumps(r.target.to_json()), r.config_digest, r.created.isoformat(), json.dumps(dict(r.labels)))


def _image(row: tuple[str, str, str, str, str]) -> ImageRecord:
    name, target, config_digest, created, labels = row
    return ImageRecord(name, Descriptor.from_json(json.loads(target)), config_digest,
                       datetime.fromisoformat(created), json.loads(labels))


class SqliteContainerStore:
    """``core.containers.ContainerStore`` over the ``containers`` table."""

    def __init__(self, db: SqliteStateDB) -> None:
        self._db = db

    def get(self, id: str) -> ContainerRecord:
        with self._db.transaction() as c:
            row = c.execute("SELECT config, state FROM containers WHERE id = ?", (id,)).fetchone()
        if row is None:
            raise NotFound(f"No such container: {id}")
        return _container(row)

    def resolve(self, ref: str) -> ContainerRecord:
        """Docker's order: exact id, exact name (with or without "/"), unique id prefix."""
        if not ref:
            raise NotFound(f"No such container: {ref}")
        with self._db.transaction() as c:
            row = c.execute("SELECT config, state FROM containers WHERE id = ?", (ref,)).fetchone()
            if row is None:
                name = ref[1:] if ref.startswith("/") else ref
                row = c.execute("SELECT config, state FROM containers WHERE name = ?", (name,)).fetchone()
            if row is None:
                # LIKE would treat "_" and "%" as wildcards; compare with substr instead.
                rows = c.execute(
                    "SELECT config, state FROM containers WHERE substr(id, 1, ?) = ? LIMIT 2", (len(ref), ref)
                ).fetchall()
                if len(rows) > 1:
                    raise InvalidArgument(f"multiple IDs found with provided prefix: {ref}")
                row = rows[0] if rows else None
        if row is None:
            raise NotFound(f"No such container: {ref}")
        return _container(row)

    def list(self) -> list[ContainerRecord]:
        with self._db.transaction() as c:
            rows = c.execute("SELECT config, state FROM containers ORDER BY seq").fetchall()
        return [_container(r) for r in rows]

    def create(self, record: ContainerRecord) -> None:
        with self._db.transaction() as c:
            taken = c.execute("SELECT id FROM containers WHERE name = ?", (record.name,)).fetchone()
            if taken is not None:
                raise AlreadyExists(
                    f'Conflict. The container name "/{record.name}" is already in use by container "{taken[0]}". '
                    "You have to remove (or rename) that container to be able to reuse that name."
                )
            if c.execute("SELECT 1 FROM containers WHERE id = ?", (record.id,)).fetchone():
                raise AlreadyExists(f"container {record.id}: already exists")
            c.execute(
                "INSERT INTO containers (id, name, config, state) VALUES (?, ?, ?, ?)",
                (record.id, record.name, json.dumps(record.config.to_json()), json.dumps(record.state.to_json())),
            )

    def save_state(self, id: str, state: ContainerState) -> None:
        with self._db.transaction() as c:
            cur = c.execute("UPDATE containers SET state = ? WHERE id = ?", (json.dumps(state.to_json()), id))
            if cur.rowcount == 0:
                raise NotFound(f"No such container: {id}")

    def save_config(self, id: str, config: ContainerConfig) -> None:
        with self._db.transaction() as c:
            cur = c.execute("UPDATE containers SET config = ? WHERE id = ?", (json.dumps(config.to_json()), id))
            if cur.rowcount == 0:
                raise NotFound(f"No such container: {id}")

    def rename(self, id: str, new_name: str) -> None:
        """Change the name (``docker rename``). AlreadyExists if taken."""
        new_name = new_name.lstrip("/")
        with self._db.transaction() as c:
            rec = self.get(id)
            taken = c.execute("SELECT id FROM containers WHERE name = ? AND id != ?", (new_name, id)).fetchone()
            if taken is not None:
                raise AlreadyExists(
                    f'Conflict. The container name "/{new_name}" is already in use by container "{taken[0]}". '
                    "You have to remove (or rename) that container to be able to reuse that name."
                )
            cfg = rec.config.to_json()
            cfg["name"] = new_name
            c.execute("UPDATE containers SET name = ?, config = ? WHERE id = ?", (new_name, json.dumps(cfg), id))

    def delete(self, id: str) -> None:
        with self._db.transaction() as c:
            if c.execute("DELETE FROM containers WHERE id = ?", (id,)).rowcount == 0:
                raise NotFound(f"No such container: {id}")


def _container(row: tuple[str, str]) -> ContainerRecord:
    return ContainerRecord(ContainerConfig.from_json(json.loads(row[0])), ContainerState.from_json(json.loads(row[1])))
