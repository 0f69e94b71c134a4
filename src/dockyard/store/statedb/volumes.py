"""``SqliteVolumeStore``: ``core.volumes.VolumeStore`` over the ``volumes`` table."""

from __future__ import annotations

import json

from dockyard.core.volumes import Volume
from dockyard.errors import NotFound
from dockyard.store.statedb.sqlite import SqliteStateDB


class SqliteVolumeStore:
    def __init__(self, db: SqliteStateDB) -> None:
        self._db = db

    def create(self, vol: Volume) -> Volume:
        with self._db.transaction() as c:
            row = c.execute("SELECT record FROM volumes WHERE name = ?", (vol.name,)).fetchone()
            if row is not None:
                return Volume.from_json(json.loads(row[0]))
            c.execute("INSERT INTO volumes VALUES (?, ?)", (vol.name, json.dumps(vol.to_json())))
        return vol

    def get(self, name: str) -> Volume:
        with self._db.transaction() as c:
            row = c.execute("SELECT record FROM volumes WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NotFound(f"get {name}: no such volume")
        return Volume.from_json(json.loads(row[0]))

    def list(self) -> list[Volume]:
        with self._db.transaction() as c:
            rows = c.execute("SELECT record FROM volumes ORDER BY name").fetchall()
        return [Volume.from_json(json.loads(r[0])) for r in rows]

    def delete(self, name: str) -> None:
        with self._db.transaction() as c:
            c.execute("DELETE FROM volumes WHERE name = ?", (name,))
