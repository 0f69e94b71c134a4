"""MemoryContainerStore: the ContainerStore protocol over a dict."""

from __future__ import annotations

import threading

from dockyard.core.containers import ContainerConfig, ContainerRecord, ContainerState
from dockyard.errors import AlreadyExists, InvalidArgument, NotFound


class MemoryContainerStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._recs: dict[str, ContainerRecord] = {}

    def get(self, id: str) -> ContainerRecord:
        with self._lock:
            try:
                return self._recs[id]
            except KeyError:
                raise NotFound(f"No such container: {id}") from None

    def resolve(self, ref: str) -> ContainerRecord:
        with self._lock:
            if ref in self._recs:
                return self._recs[ref]
            name = ref.lstrip("/")
            for r in self._recs.values():
                if r.name == name:
                    return r
            hits = [r for r in self._recs.values() if ref and r.id.startswith(ref)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise InvalidArgument(f"multiple IDs found with provided prefix: {ref}")
        raise NotFound(f"No such container: {ref}")

    def list(self) -> list[ContainerRecord]:
        with self._lock:
            return list(self._recs.values())

    def create(self, record: ContainerRecord) -> None:
        with self._lock:
            for r in self._recs.values():
                if r.name == record.name:
                    raise AlreadyExists(
                        f'Conflict. The container name "/{record.name}" is already in use by container '
                        f'"{r.id}". You have to remove (or rename) that container to be able to reuse that name.')
            if record.id in self._recs:
                raise AlreadyExists(f"container {record.id} already exists")
            self._recs[record.id] = record

    def save_state(self, id: str, state: ContainerState) -> None:
        with self._lock:
            if id not in self._recs:
                raise NotFound(f"No such container: {id}")
            self._recs[id] = ContainerRecord(self._recs[id].config, state)

    def save_config(self, id: str, config: ContainerConfig) -> None:
        with self._lock:
            if id not in self._recs:
                raise NotFound(f"No such container: {id}")
            self._recs[id] = ContainerRecord(config, self._recs[id].state)

    def rename(self, id: str, new_name: str) -> None:
        from dataclasses import replace

        with self._lock:
            for r in self._recs.values():
                if r.name == new_name and r.id != id:
                    raise AlreadyExists(
                        f'Conflict. The container name "/{new_name}" is already in use by container '
                        f'"{r.id}". You have to remove (or rename) that container to be able to reuse that name.')
            rec = self._recs[id]
            self._recs[id] = ContainerRecord(replace(rec.config, name=new_name), rec.state)

    def delete(self, id: str) -> None:
        with self._lock:
            if self._recs.pop(id, None) is None:
                raise NotFound(f"No such container: {id}")
