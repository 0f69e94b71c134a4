"""A TLS socket that attach streams can use from two threads at once.

Used by both ends of the API (``client`` and ``daemon.api``; imports nothing
of ours, like ``errors``).  Two traps of ``ssl.SSLSocket`` it closes:

* one OpenSSL connection must not be read and written by two threads at the
  same time, yet an attach reads stdin in one thread while it writes output
  in another: every SSL call here holds one lock, and a reader waits for
  readability with ``poll`` *outside* the lock, so a blocked reader never
  stalls a writer;
* ``SSLSocket.shutdown(SHUT_WR)`` drops the SSL object, after which ``recv``
  returns raw ciphertext: a half-close here shuts the TCP write side only,
  and TLS keeps working for reading (see ``shutdown``).
"""

from __future__ import annotations

import select
import socket
import ssl
import threading


class TlsStream:
    """The socket methods the API's HTTP and hijack code use, made thread-safe."""

    def __init__(self, sock: ssl.SSLSocket) -> None:
        self._s = sock
        self._lock = threading.Lock()
        self._timeout = sock.gettimeout()

    def fileno(self) -> int:
        return self._s.fileno()

    def settimeout(self, timeout: float | None) -> None:
        self._timeout = timeout

    def gettimeout(self) -> float | None:
        return self._timeout

    def getpeername(self) -> object:
        return self._s.getpeername()

    def recv(self, n: int, flags: int = 0) -> bytes:
        if flags:
            raise ValueError("flags are not supported on TLS sockets")
        while True:
            if not self._s.pending():
                ready = select.poll()
                ready.register(self._s.fileno(), select.POLLIN)
                if not ready.poll(None if self._timeout is None else self._timeout * 1000):
                    raise TimeoutError("timed out")
            with self._lock:
                self._s.settimeout(0.0)
                try:
                    return self._s.recv(n)
                except ssl.SSLWantReadError:
                    continue  # a record not complete yet, or only a session ticket
                except ssl.SSLWantWriteError:
                    continue
                finally:
                    self._s.settimeout(self._timeout)

    def sendall(self, data: bytes) -> None:
        with self._lock:
            self._s.sendall(data)

    def send(self, data: bytes) -> int:
        self.sendall(data)
        return len(data)

    def shutdown(self, how: int) -> None:
        if how != socket.SHUT_WR:
            self._s.shutdown(how)
            return
        # The TCP write side only. Not close_notify: Python's unwrap() follows it with a
        # second SSL_shutdown that reads, and OpenSSL discards application data read there
        # (the container's output, lost at random). Servers set OP_IGNORE_UNEXPECTED_EOF,
        # so this bare FIN is read as end of input rather than a truncation attack.
        try:
            socket.socket.shutdown(self._s, how)
        except OSError:
            pass

    def close(self) -> None:
        self._s.close()
