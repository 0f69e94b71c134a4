"""InMemoryEventBus: fan-out of engine events to ``/events`` subscribers.

Each subscriber has its own bounded queue: a slow reader loses its oldest
events rather than slowing the publisher (Docker drops too).  The bus keeps
a short history (a ring of the last ``history`` events) so ``since`` can
replay what happened just before a subscription began.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Iterator

from dockyard.core.events import Event


class _Subscription:
    def __init__(self, bus: "InMemoryEventBus", backlog: list[Event], maxlen: int) -> None:
        self._bus = bus
        self._queue: deque[Event] = deque(backlog, maxlen=maxlen)
        self._cond = threading.Condition()
        self._closed = False
        self.dropped = 0

    def _put(self, event: Event) -> None:
        with self._cond:
            if self._closed:
                return
            if len(self._queue) == self._queue.maxlen:
                self.dropped += 1
            self._queue.append(event)
            self._cond.notify()

    def get(self, timeout: float | None = None) -> Event | None:
        with self._cond:
            if not self._queue and not self._closed:
                self._cond.wait(timeout)
            if self._queue:
                return self._queue.popleft()
            return None

    def __iter__(self) -> Iterator[Event]:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if not self._queue:
                    return
                event = self._queue.popleft()
            yield event

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._cond.notify_all()
        self._bus._unsubscribe(self)


class InMemoryEventBus:
    def __init__(self, *, history: int = 1024, queue: int = 4096) -> None:
        self._lock = threading.Lock()
        self._history: deque[Event] = deque(maxlen=history)
        self._subs: list[_Subscription] = []
        self._queue = queue

    def publish(self, event: Event) -> None:
        with self._lock:
            self._history.append(event)
            subs = list(self._subs)
        for sub in subs:
            sub._put(event)

    def subscribe(self, since_ns: int | None = None) -> _Subscription:
        with self._lock:
            backlog = [e for e in self._history if e.time_ns >= since_ns] if since_ns is not None else []
            sub = _Subscription(self, backlog, max(self._queue, len(backlog)))
            self._subs.append(sub)
        return sub

    def history(self) -> list[Event]:
        with self._lock:
            return list(self._history)

    def _unsubscribe(self, sub: _Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    def close(self) -> None:
        """Daemon shutdown: end every subscription."""
        with self._lock:
            subs, self._subs = self._subs, []
        for sub in subs:
            sub.close()
