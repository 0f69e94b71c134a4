"""Pseudo-terminals for containers: allocated *inside* the container, master handed to the shim.

Why inside (runc's console socket design, not ``openpty`` in the shim): the
pty must come from the container's own devpts instance (``newinstance``), so
the process sees ``/dev/pts/0`` in its own ``/dev/pts``, ``tty`` prints a
path that exists there, and nothing of the host's devpts is visible.  So
the container init (after pivot_root) or the exec process (after joining the
mount namespace) opens ``/dev/ptmx``, keeps the slave as its controlling
terminal and stdio, and sends the master to the shim over its channel as
SCM_RIGHTS (``messages.Console``).  The shim then reads output from the
master and writes stdin and window sizes to it.
"""

from __future__ import annotations

import fcntl
import os
import struct
import termios

_TIOCGPTN = 0x80045430  # _IOR('T', 0x30, unsigned int)
_TIOCSPTLCK = 0x40045431  # _IOW('T', 0x31, int)
_WINSIZE = struct.Struct("HHHH")


def open_pty(ptmx: str = "/dev/ptmx") -> tuple[int, int, str]:
    """(master, slave, slave path) from the devpts instance behind ``ptmx``; both fds CLOEXEC."""
    master = os.open(ptmx, os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        fcntl.ioctl(master, _TIOCSPTLCK, struct.pack("i", 0))  # unlockpt
        n = struct.unpack("I", fcntl.ioctl(master, _TIOCGPTN, b"\0\0\0\0"))[0]
        path = os.path.join(os.path.dirname(os.path.realpath(ptmx)), str(n))
        slave = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    except BaseException:
        os.close(master)
        raise
    return master, slave, path


def make_controlling(slave: int) -> None:
    """New session with ``slave`` as controlling terminal and fds 0-2 (Ctrl-C then reaches the
    foreground process group through the line discipline, as on a real terminal)."""
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    if slave > 2:
        os.close(slave)


def set_winsize(fd: int, rows: int, cols: int) -> None:
    """TIOCSWINSZ on the master: the kernel sends SIGWINCH to the foreground process group."""
    fcntl.ioctl(fd, termios.TIOCSWINSZ, _WINSIZE.pack(rows, cols, 0, 0))


def get_winsize(fd: int) -> tuple[int, int]:
    rows, cols, _, _ = _WINSIZE.unpack(fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * _WINSIZE.size))
    return rows, cols
