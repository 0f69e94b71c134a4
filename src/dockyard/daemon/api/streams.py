"""Pumping container output into a hijacked connection (attach).

Two directions, two threads:

* this thread copies ``(stream, data)`` from the ``OutputStream`` to the
  socket, framed with stdcopy unless the container has a TTY;
* a watcher thread reads the client side: stdin bytes go to ``on_input``
  (through the detach-key ``EscapeProxy`` when ``detach_keys`` is given:
  typing them ends the attach and leaves the process running).  EOF there
  is a *half-close* (the docker CLI closes its write side at once when it
  has no stdin), so it only calls ``on_input_eof``; a full hang-up (or a
  failed write) closes the output stream so the pump ends and the service
  frees its resources.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from dockyard.daemon.services import OutputStream
from dockyard.wire import stdcopy
from dockyard.wire.detachkeys import EscapeProxy

from .messages import RawConnection

_HANGUP_POLL = 0.2  # seconds; bounds how long the watcher outlives the pump


def pump_output(
    conn: RawConnection,
    output: OutputStream,
    *,
    tty: bool,
    on_input_eof: Callable[[], None] | None = None,
    on_input: Callable[[bytes], None] | None = None,
    detach_keys: bytes | None = None,
) -> None:
    """Copy ``output`` to ``conn`` until the container stops or the client leaves (or detaches)."""
    done = threading.Event()
    proxy = EscapeProxy(detach_keys) if detach_keys and on_input is not None else None

    def watch_client() -> None:
        while not done.is_set():
            data = conn.recv(65536)
            if not data:
                break
            if proxy is not None:
                data = proxy.feed(data)
            if data and on_input is not None:
                on_input(data)
            if proxy is not None and proxy.detached:
                output.close()  # ends the pump; the process and its stdin stay as they are
                return
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
