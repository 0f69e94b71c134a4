"""Upload sessions in flight: the pure ``UploadSession`` plus its open content writer.

Sessions live in memory; their bytes live in the content store's ingest
area.  A restart forgets every session (clients get BLOB_UPLOAD_UNKNOWN and
start again) and ``discard_stale_ingests`` removes their leftovers, so a
crash never turns a half upload into a blob.  A session idle longer than
``ttl`` is expired on the next ``expire`` sweep.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from dockyard.core.content import ContentStore, ContentWriter

from . import codes, uploads
from .codes import RegistryError
from .uploads import UploadSession

INGEST_PREFIX = "upload-"


@dataclass
class _Live:
    session: UploadSession
    writer: ContentWriter
    lock: threading.Lock = field(default_factory=threading.Lock)


class UploadSessions:
    """Thread-safe table of open uploads.  ``clock`` is injectable (tests use a fake)."""

    def __init__(self, content: ContentStore, clock: Callable[[], float], ttl: float = 3600.0) -> None:
        self.content = content
        self.clock = clock
        self.ttl = ttl
        self._lock = threading.Lock()
        self._live: dict[str, _Live] = {}

    def __len__(self) -> int:
        return len(self._live)

    def open(self, name: str) -> UploadSession:
        id_ = secrets.token_urlsafe(24)
        writer = self.content.writer(INGEST_PREFIX + id_)
        session = uploads.start(id_, name, self.clock())
        with self._lock:
            self._live[id_] = _Live(session, writer)
        return session

    def get(self, name: str, id_: str) -> UploadSession:
        return self._find(name, id_).session

    def acquire(self, name: str, id_: str, timeout: float = 10.0) -> "_Held":
        """Exclusive use of a session for one request (a resumed PATCH waits for the dropped one)."""
        live = self._find(name, id_)
        if not live.lock.acquire(timeout=timeout):
            raise RegistryError(codes.BLOB_UPLOAD_INVALID, "upload is busy", detail={"id": id_})
        if self._live.get(id_) is not live:  # finished or cancelled while we waited
            live.lock.release()
            raise RegistryError(codes.BLOB_UPLOAD_UNKNOWN, detail={"id": id_})
        return _Held(self, live)

    def _find(self, name: str, id_: str) -> _Live:
        with self._lock:
            live = self._live.get(id_)
        if live is None or live.session.name != name:
            raise RegistryError(codes.BLOB_UPLOAD_UNKNOWN, detail={"id": id_})
        return live

    def _drop(self, id_: str) -> None:
        with self._lock:
            self._live.pop(id_, None)

    def expire(self) -> list[str]:
        """Abort sessions idle for longer than ``ttl``; returns their ids."""
        now = self.clock()
        with self._lock:
            stale = [(i, l) for i, l in self._live.items() if l.session.is_expired(now, self.ttl)]
        gone = []
        for id_, live in stale:
            if live.lock.acquire(blocking=False):  # in use means not idle
                try:
                    live.writer.abort()
                    self._drop(id_)
                    gone.append(id_)
                finally:
                    live.lock.release()
        return gone

    def close_all(self) -> None:
        with self._lock:
            lives, self._live = list(self._live.values()), {}
        for live in lives:
            live.writer.abort()

    def discard_stale_ingests(self) -> int:
        """Remove upload ingests left by a previous process (none are live at start)."""
        n = 0
        for status in self.content.ingests():
            if status.ref.startswith(INGEST_PREFIX) and status.ref[len(INGEST_PREFIX):] not in self._live:
                self.content.writer(status.ref).abort()
                n += 1
        return n


class _Held:
    """A session held by one request: write bytes, then finish or cancel."""

    def __init__(self, table: UploadSessions, live: _Live) -> None:
        self._table = table
        self._live = live

    @property
    def session(self) -> UploadSession:
        return self._live.session

    @property
    def writer(self) -> ContentWriter:
        return self._live.writer

    def received(self, n: int) -> None:
        self._live.session = uploads.received(self._live.session, n, self._table.clock())

    def close(self) -> None:
        """Forget the session (after commit or cancel); its writer is already done."""
        self._table._drop(self._live.session.id)

    def finish(self) -> None:
        self._live.session = uploads.finish(self._live.session, self._table.clock())
        self.close()

    def __enter__(self) -> "_Held":
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.lock.release()
