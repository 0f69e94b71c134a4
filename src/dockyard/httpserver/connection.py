"""One HTTP/1.1 server connection over a blocking socket, parsed by h11.

Theory of operation: a connection thread wraps its socket in an
``H11Connection`` and calls ``serve_connection(conn, serve_one, ...)``,
which reads request heads and hands each to ``serve_one`` (the server's own
request code: routing, writing the response).  A request body stays on the
wire and is pulled from h11 only as the handler reads it (``RequestBody``),
so a large upload streams through in ``recv_size`` pieces; the server drains
what is left before the next keep-alive cycle.  What differs between the
servers stays theirs: listeners, response shapes, hijack (daemon), file
bodies and access logs (registry).

This module and the two servers are the only places that know h11.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Callable

import h11


class PeerGone(Exception):
    """The peer closed or broke the connection mid-request."""


class H11Connection:
    """One h11 connection over one socket.

    ``gone`` is the exception raised when the peer vanishes (the registry
    gives its app's ``ClientGone``); ``max_head`` bounds a request head.
    """

    def __init__(self, sock: socket.socket, *, recv_size: int = 65536,
                 max_head: int = 16 << 10,  # h11's default
                 gone: type[Exception] = PeerGone) -> None:
        self.sock = sock
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=max_head)
        self.recv_size = recv_size
        self.gone = gone

    def next_event(self) -> Any:
        """The next h11 event, reading the socket as needed (h11.RemoteProtocolError passes through)."""
        while True:
            ev = self.h11.next_event()
            if ev is h11.NEED_DATA:
                try:
                    data = self.sock.recv(self.recv_size)
                except OSError as exc:
                    raise self.gone() from exc
                self.h11.receive_data(data)
                continue
            return ev

    def send(self, event: Any) -> None:
        data = self.h11.send(event)
        if data:
            self.sock.sendall(data)


class RequestBody:
    """The current request's body, pulled from h11 only as it is read."""

    def __init__(self, conn: H11Connection) -> None:
        self._conn = conn
        self._pending = b""
        self.done = False
        self.received = 0

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (``n < 0``: the next piece h11 has); b"" at the end."""
        while not self._pending and not self.done:
            try:
                ev = self._conn.next_event()
            except h11.RemoteProtocolError as exc:  # a broken body (bad chunking): the peer is unusable
                raise self._conn.gone() from exc
            if isinstance(ev, h11.Data):
                self._pending = bytes(ev.data)
                self.received += len(self._pending)
            elif isinstance(ev, h11.EndOfMessage):
                self.done = True
            else:
                raise self._conn.gone()
        if n < 0 or n >= len(self._pending):
            out, self._pending = self._pending, b""
        else:
            out, self._pending = self._pending[:n], self._pending[n:]
        return out

    def drain(self) -> None:
        """Discard the unread rest (keep-alive needs the request fully read)."""
        while not self.done:
            self._pending = b""
            self.read()


@dataclass(frozen=True, slots=True)
class RequestHead:
    """An h11 request head, decoded once."""

    method: str
    target: str  # as sent: path + "?" + query
    raw_path: str  # still percent-encoded
    query: str  # raw query string
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "

    @classmethod
    def parse(cls, ev: h11.Request) -> "RequestHead":
        target = ev.target.decode("latin-1")
        raw_path, _, query = target.partition("?")
        headers: dict[str, str] = {}
        for name, value in ev.headers:
            key, val = name.decode("latin-1").lower(), value.decode("latin-1")
            headers[key] = f"{headers[key]}, {val}" if key in headers else val
        return cls(ev.method.decode("ascii"), target, raw_path, query, headers)


def serve_connection(conn: H11Connection, serve_one: Callable[[h11.Request], bool], *,
                     quiet: tuple[type[BaseException], ...], log: logging.Logger,
                     reject: Callable[[H11Connection, h11.RemoteProtocolError], None] | None = None) -> None:
    """Serve requests on ``conn`` until either side ends it, then close the socket.

    ``serve_one`` answers one request and says whether the connection may
    go on; ``reject`` answers a malformed head (else the connection just
    closes); ``quiet`` are the exceptions that mean the peer left.
    """
    try:
        while True:
            try:
                ev = conn.next_event()
            except h11.RemoteProtocolError as exc:
                if reject is not None:
                    reject(conn, exc)
                return
            if not isinstance(ev, h11.Request):
                return  # ConnectionClosed: done
            if not serve_one(ev):
                return
            if conn.h11.our_state is h11.DONE and conn.h11.their_state is h11.DONE:
                conn.h11.start_next_cycle()
            else:
                return
    except quiet:
        return
    except Exception:
        log.exception("connection handler crashed")
    finally:
        try:
            conn.sock.close()
        except OSError:
            pass


def reason(status: int) -> bytes:
    """The standard reason phrase for ``status`` (b"" for unknown codes)."""
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""
