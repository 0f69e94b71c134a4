"""Run a little code inside another network namespace, from a threaded daemon.

``setns(CLONE_NEWNET)`` changes the namespace of the *calling thread* only,
so the daemon's other threads are unaffected: we switch, do the work
(typically: create a socket, which stays bound to that namespace), and
switch back to the thread's own namespace, whatever happens.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import socket
from typing import Callable, TypeVar

T = TypeVar("T")

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def run_in(path: str, fn: Callable[[], T]) -> T:
    """``fn()`` with this thread inside the network namespace at ``path``."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        target = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            _setns(target)
        finally:
            os.close(target)
        try:
            return fn()
        finally:
            _setns(own)  # must not fail: the thread would be stranded in the container
    finally:
        os.close(own)


def socket_in(path: str, family: int, kind: int, proto: int = 0) -> socket.socket:
    """A socket created inside the namespace at ``path`` (it stays there)."""
    return run_in(path, lambda: socket.socket(family, kind, proto))


def same_as_host(path: str) -> bool:
    """True when ``path`` names the daemon's own network namespace."""
    a, b = os.stat(path), os.stat("/proc/self/ns/net")
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


__all__ = ["run_in", "same_as_host", "socket_in"]
