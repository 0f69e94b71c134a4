"""Container status transitions: the only place that knows which are legal.

Theory of operation (h11 ``_state.py`` style): a container's ``Status``
changes only by applying an ``Action`` through :func:`transition`, which
looks the pair up in ``TRANSITIONS``.  An action that is illegal in the
current status raises the error Docker answers with (409 Conflict, or 304
NotModified for starting a running container / stopping a stopped one).

    created ──start──► running ──exit──► exited ──start──► running
       │              │   ▲ ▲  └─restart─► restarting ─start─┘
       │          pause  unpause
       │              ▼   │
       │             paused
       └──remove─► removing ◄──remove(force)── any ; removing ──die──► dead
"""

from __future__ import annotations

import enum
from typing import Mapping

from dockyard.core.containers import Status
from dockyard.errors import Conflict, NotModified


class Action(str, enum.Enum):
    START = "start"
    START_FAILED = "start-failed"  # the runtime could not exec: back to created/exited
    EXIT = "exit"
    PAUSE = "pause"
    UNPAUSE = "unpause"
    RESTART = "restart"
    REMOVE = "remove"
    FORCE_REMOVE = "force-remove"
    DIE = "die"  # removal failed half way


TRANSITIONS: Mapping[Status, Mapping[Action, Status]] = {
    Status.CREATED: {
        Action.START: Status.RUNNING,
        Action.START_FAILED: Status.CREATED,
        Action.REMOVE: Status.REMOVING,
        Action.FORCE_REMOVE: Status.REMOVING,
    },
    Status.RUNNING: {
        Action.EXIT: Status.EXITED,
        Action.RESTART: Status.RESTARTING,  # exited, and the restart policy will start it again
        Action.PAUSE: Status.PAUSED,
        Action.FORCE_REMOVE: Status.REMOVING,
    },
    Status.PAUSED: {
        Action.UNPAUSE: Status.RUNNING,
        Action.EXIT: Status.EXITED,
        Action.FORCE_REMOVE: Status.REMOVING,
    },
    Status.RESTARTING: {
        Action.START: Status.RUNNING,
        Action.START_FAILED: Status.EXITED,
        Action.EXIT: Status.EXITED,
        Action.FORCE_REMOVE: Status.REMOVING,
    },
    Status.EXITED: {
        Action.START: Status.RUNNING,
        Action.START_FAILED: Status.EXITED,
        Action.RESTART: Status.RESTARTING,
        Action.REMOVE: Status.REMOVING,
        Action.FORCE_REMOVE: Status.REMOVING,
        Action.EXIT: Status.EXITED,
    },
    Status.REMOVING: {Action.EXIT: Status.REMOVING, Action.DIE: Status.DEAD},
    Status.DEAD: {Action.REMOVE: Status.REMOVING, Action.FORCE_REMOVE: Status.REMOVING},
}


def can(current: Status, action: Action) -> bool:
    return action in TRANSITIONS.get(current, {})


def transition(current: Status, action: Action, *, ref: str = "") -> Status:
    """The status after ``action``; raises Docker's error when it is illegal."""
    nxt = TRANSITIONS.get(current, {}).get(action)
    if nxt is not None:
        return nxt
    if action is Action.START and current is Status.RUNNING:
        raise NotModified(f"container {ref} is already started")
    if action is Action.START and current is Status.PAUSED:
        raise Conflict("cannot start a paused container, try unpause instead")
    if action is Action.REMOVE and current in (Status.RUNNING, Status.PAUSED, Status.RESTARTING):
        state = "paused" if current is Status.PAUSED else "running"
        raise Conflict(
            f"cannot remove container \"{ref}\": container is {state}: "
            "stop the container before removing or force remove"
        )
    if action is Action.PAUSE:
        if current is Status.PAUSED:
            raise Conflict(f"Container {ref} is already paused")
        if current is Status.RESTARTING:
            raise Conflict(f"Container {ref} is restarting, wait until the container is running")
        raise Conflict(f"Container {ref} is not running")
    if action is Action.UNPAUSE:
        raise Conflict(f"Container {ref} is not paused")
    if current is Status.REMOVING:
        raise Conflict(f"removal of container {ref} is already in progress")
    raise Conflict(f"cannot {action.value} container {ref}: container is {current.value}")
