"""Fan-out of one container's live output to any number of attachers.

The hub outlives single runs: an attacher that subscribes before ``start``
(as ``docker run`` does) receives everything from the first byte; ``end()``
finishes the current subscribers when the process has exited.
"""

from __future__ import annotations

import queue
import threading
from typing import Iterator

_END = None


class Subscription:
    """Iterate for (stream, data); ``close()`` may be called from any thread."""

    def __init__(self, hub: "OutputHub", streams: frozenset[int]) -> None:
        self._hub = hub
        self._streams = streams
        self._queue: "queue.SimpleQueue[tuple[int, bytes] | None]" = queue.SimpleQueue()

    def _put(self, item: tuple[int, bytes] | None) -> None:
        if item is None or item[0] in self._streams:
            self._queue.put(item)

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            yield item

    def close(self) -> None:
        self._hub._drop(self)
        self._queue.put(_END)


class OutputHub:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: list[Subscription] = []

    def subscribe(self, streams: frozenset[int]) -> Subscription:
        sub = Subscription(self, streams)
        with self._lock:
            self._subs.append(sub)
        return sub

    def publish(self, stream: int, data: bytes) -> None:
        with self._lock:
            subs = list(self._subs)
        for s in subs:
            s._put((stream, data))

    def end(self) -> None:
        """The process is gone: finish every current subscriber."""
        with self._lock:
            subs, self._subs = self._subs, []
        for s in subs:
            s._put(_END)

    def _drop(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)
