"""Pumping container output into a hijacked connection (attach).

Two directions, two threads:

* this thread copies ``(stream, data)`` from the ``OutputStream`` to the
  socket, framed with stdcopy unless the container has a TTY;
* a watcher thread reads the client side.  EOF there is a *half-close*
  (the docker CLI closes its write side at once when it has no stdin), so it
  only marks input as finished; a full hang-up (or a failed write) closes
  the output stream so the pump ends and the service frees its resources.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from dockyard.daemon.services import OutputStream
from dockyard.wire import stdcopy

from .messages import RawConnection

_HANGUP_POLL = 0.2  # seconds; bounds how long the watcher outlives the pump


def pump_output(
    conn: RawConnection,
    output: OutputStream,
    *,
    tty: bool,
    on_input_eof: Callable[[], None] | None = None,
) -> None:
    """Copy ``output`` to ``conn`` until the container stops or the client leaves."""
    done = threading.Event()

    def watch_client() -> None:
        while not done.is_set():
            data = conn.recv(65536)
            if not data:
                break
            # stdin is not wired yet: bytes from the client are discarded
        if on_input_eof is not None:
            on_input_eof()
        while not done.is_set():
            if conn.wait_hangup(_HANGUP_POLL):
                output.close()
                return

    watcher = threading.Thread(target=watch_client, name="attach-watch", daemon=True)
    watcher.start()
    try:
        for stream, data in output:
            if not data:
                continue
            try:
                conn.sendall(data if tty else stdcopy.encode(stream, data))
            except OSError:
                break  # client gone
    finally:
        done.set()
        output.close()
