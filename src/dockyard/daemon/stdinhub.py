"""Fan-in of attachers' input to one container's stdin (the counterpart of ``outputhub``).

``docker run -i`` attaches before ``start``: its bytes (and its EOF) may come
before the container's stdin exists.  The hub buffers them (bounded) and
flushes once the service ``connect``s the runtime's ``InputStream`` after
``Runtime.create``; ``disconnect`` at exit drops it, so the next start gets a
fresh stdin, as Docker's does.  ``close_stdin`` (an attacher's EOF with
``StdinOnce``) is remembered the same way.
"""

from __future__ import annotations

import threading

from dockyard.core.runtime import InputStream

MAX_PENDING = 1 << 20  # bytes typed before start; more is dropped


class StdinHub:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sink: InputStream | None = None
        self._pending = bytearray()
        self._eof = False

    def connect(self, sink: InputStream) -> None:
        with self._lock:
            self._sink = sink
            pending, self._pending = bytes(self._pending), bytearray()
            if pending:
                sink.write(pending)
            if self._eof:
                sink.close_stdin()

    def disconnect(self) -> None:
        with self._lock:
            sink, self._sink = self._sink, None
            self._pending.clear()
            self._eof = False
        if sink is not None:
            sink.close()

    def write(self, data: bytes) -> None:
        with self._lock:
            if self._sink is not None:
                self._sink.write(data)
            elif not self._eof and len(self._pending) + len(data) <= MAX_PENDING:
                self._pending += data

    def close_stdin(self) -> None:
        with self._lock:
            if self._sink is not None:
                self._sink.close_stdin()
            else:
                self._eof = True
