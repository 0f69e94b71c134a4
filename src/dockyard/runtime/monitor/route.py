"""Daemon side: where an Exec goes when the container's shim is the native monitor.

The monitor runs no Python; a fresh interpreter per exec costs ~90 ms, so the
daemon asks its spawner (a fork server with the runtime loaded) to fork the
exec helper (runtime/exechelper.py) and talks to it over a socketpair, with the
same messages as to a shim.  While the shim is still Python (or handing over),
the Exec goes to ``shim.sock`` as before; an Exec the monitor receives anyway
it serves with a helper of its own.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from dockyard.runtime import messages as m
from dockyard.runtime import state as st

MONITOR_NAME = "dockyard-monitor"


def is_native(pid: int) -> bool:
    """Whether ``pid`` runs the native monitor (the shim handed over)."""
    try:
        return os.readlink(f"/proc/{pid}/exe").endswith(MONITOR_NAME)
    except OSError:
        return False


def native_exec_channel(spawner: Any, state_dir: Path) -> m.Channel | None:
    """A channel to a spawner-forked exec helper, or None (not the native monitor: use shim.sock)."""
    record = st.read_record(state_dir)
    if record is None or not is_native(record.shim_pid) or not (state_dir / st.SOCKET_FILE).exists():
        return None
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        spawner.spawn(m.SpawnExec(str(state_dir), record.bundle, record.pid), theirs.fileno())
    except (OSError, RuntimeError):
        ours.close()
        return None  # no spawner: the monitor forks a helper itself
    finally:
        theirs.close()
    return m.Channel(ours)
