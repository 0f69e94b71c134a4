"""``SqliteNetworkStore``: ``core.networks.NetworkStore`` over the
``networks`` and ``endpoints`` tables of the state database."""

from __future__ import annotations

import builtins
import json

from dockyard.core.networks import EndpointRecord, NetworkRecord
from dockyard.errors import AlreadyExists, NotFound
from dockyard.store.statedb.sqlite import SqliteStateDB


class SqliteNetworkStore:
    def __init__(self, db: SqliteStateDB) -> None:
        self._db = db

    def create(self, rec: NetworkRecord) -> None:
        with self._db.transaction() as c:
            if c.execute("SELECT 1 FROM networks WHERE name = ?", (rec.name,)).fetchone():
                raise AlreadyExists(f"network with name {rec.name} already exists")
            c.execute("INSERT INTO networks VALUES (?, ?, ?)", (rec.id, rec.name, json.dumps(rec.to_json())))

    def list(self) -> list[NetworkRecord]:
        with self._db.transaction() as c:
            rows = c.execute("SELECT record FROM networks ORDER BY name").fetchall()
        return [NetworkRecord.from_json(json.loads(r[0])) for r in rows]

    def get(self, id: str) -> NetworkRecord:
        with self._db.transaction() as c:
            row = c.execute("SELECT record FROM networks WHERE id = ?", (id,)).fetchone()
        if row is None:
            raise NotFound(f"network {id} not found")
        return NetworkRecord.from_json(json.loads(row[0]))

    def delete(self, id: str) -> None:
        with self._db.transaction() as c:
            c.execute("DELETE FROM endpoints WHERE network_id = ?", (id,))
            c.execute("DELETE FROM networks WHERE id = ?", (id,))

    def put_endpoint(self, ep: EndpointRecord) -> None:
        with self._db.transaction() as c:
            # an upsert keeps the rowid, hence the connect order (eth0, eth1, ...)
            c.execute("INSERT INTO endpoints VALUES (?, ?, ?) ON CONFLICT (container_id, network_id) "
                      "DO UPDATE SET record = excluded.record",
                      (ep.container_id, ep.network_id, json.dumps(ep.to_json())))

    def endpoints(self, *, container_id: str | None = None, network_id: str | None = None) -> builtins.list[EndpointRecord]:
        q, args = "SELECT record FROM endpoints WHERE 1", []
        if container_id is not None:
            q += " AND container_id = ?"
            args.append(container_id)
        if network_id is not None:
            q += " AND network_id = ?"
            args.append(network_id)
        with self._db.transaction() as c:
            rows = c.execute(q + " ORDER BY rowid", args).fetchall()
        return [EndpointRecord.from_json(json.loads(r[0])) for r in rows]

    def delete_endpoint(self, container_id: str, network_id: str) -> None:
        with self._db.transaction() as c:
            c.execute("DELETE FROM endpoints WHERE container_id = ? AND network_id = ?", (container_id, network_id))


__all__ = ["SqliteNetworkStore"]
