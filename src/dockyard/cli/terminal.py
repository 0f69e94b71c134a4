"""The local terminal during an interactive session: raw mode, window size, SIGWINCH.

``RawTerminal`` is a context manager: raw mode on enter, the saved settings
back on *every* exit path (normal end, exception, KeyboardInterrupt, the
detach keys), and an ``atexit`` hook as a last resort for ``os._exit``-free
paths such as ``sys.exit`` from another frame.  Raw mode means the container
sees each key as typed, Ctrl-C included (its pty turns it into SIGINT for
the foreground process, as on a real terminal).
"""

from __future__ import annotations

import atexit
import os
import signal
import termios

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable


def size(fd: int = 1) -> tuple[int, int] | None:
    """(rows, cols) of the terminal on ``fd``, or None when it is not one."""
    try:
        cols, rows = os.get_terminal_size(fd)
    except OSError:
        return None
    return rows, cols


class RawTerminal:
    def __init__(self, fd: int = 0) -> None:
        self.fd = fd
        self._saved: list | None = None

    def __enter__(self) -> "RawTerminal":
        if os.isatty(self.fd):
            import tty

            self._saved = termios.tcgetattr(self.fd)
            atexit.register(self.restore)
            tty.setraw(self.fd, termios.TCSANOW)
        return self

    def restore(self) -> None:
        saved, self._saved = self._saved, None
        if saved is not None:
            try:
                termios.tcsetattr(self.fd, termios.TCSADRAIN, saved)
            except termios.error:
                pass

    def __exit__(self, *exc: object) -> None:
        self.restore()


def watch_size(resize: "Callable[[int, int], None]", fd: int = 1) -> "Callable[[], None]":
    """Call ``resize(rows, cols)`` now and on every SIGWINCH; returns the function that stops it."""

    def send(*_: object) -> None:
        current = size(fd)
        if current is not None and current[0] > 0:
            try:
                resize(*current)
            except Exception:  # noqa: BLE001 - a resize racing the exit must not kill the session
                pass

    previous = signal.signal(signal.SIGWINCH, send)
    send()

    def stop() -> None:
        signal.signal(signal.SIGWINCH, previous)

    return stop
