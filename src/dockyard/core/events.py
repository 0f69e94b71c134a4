"""Engine events: what happened to which object, as Docker's ``/events`` reports it.

Services publish an :class:`Event` on the :class:`EventBus`; the ``/events``
endpoint subscribes and streams them.  Publishing never blocks: a subscriber
that falls behind loses events (its queue is bounded), the publisher does not
wait for it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterator, Mapping, Protocol

# Docker's event types (swagger EventMessage.Type)
CONTAINER = "container"
IMAGE = "image"
VOLUME = "volume"
NETWORK = "network"
DAEMON = "daemon"
PLUGIN = "plugin"
NODE = "node"
SERVICE = "service"
SECRET = "secret"
CONFIG = "config"
BUILDER = "builder"


@dataclass(frozen=True, slots=True)
class Event:
    """One event.  ``attributes`` are Docker's ``Actor.Attributes`` (for a
    container: ``name``, ``image`` and its labels; for ``die``: ``exitCode``)."""

    type: str
    action: str
    actor_id: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    time_ns: int = field(default_factory=time.time_ns)
    scope: str = "local"


class Subscription(Protocol):
    """Events after the subscription began (plus any replayed history), in
    publication order.  Iteration blocks for the next event; it ends after
    ``close()`` (from any thread) or when the bus closes."""

    def __iter__(self) -> Iterator[Event]: ...

    def get(self, timeout: float | None = None) -> Event | None:
        """The next event, or None after ``timeout`` seconds / once closed."""
        ...

    def close(self) -> None: ...

    @property
    def closed(self) -> bool: ...


class EventBus(Protocol):
    def publish(self, event: Event) -> None:
        """Deliver to every subscriber; never blocks, never raises."""
        ...

    def subscribe(self, since_ns: int | None = None) -> Subscription:
        """Start a subscription; with ``since_ns``, first replay the retained
        history at or after that time (Docker's ``--since``)."""
        ...


class _NullSubscription:
    closed = True

    def __iter__(self) -> Iterator[Event]:
        return iter(())

    def get(self, timeout: float | None = None) -> Event | None:
        return None

    def close(self) -> None:
        pass


class NullEventBus:
    """Drops every event: the default where no bus is wired (unit tests)."""

    def publish(self, event: Event) -> None:
        pass

    def subscribe(self, since_ns: int | None = None) -> Subscription:
        return _NullSubscription()
