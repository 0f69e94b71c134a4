"""The HTTP/1.1 driver: TCP (optionally TLS), a thread per connection, parsed by h11.

Theory of operation: same model as the daemon's API server (which registry
code may not import): the accept loop hands each connection to a thread;
the thread feeds bytes to an ``h11.Connection`` and gives the app a
``Request`` whose body is pulled from h11 only as the handler reads it, so
a 100 MB layer streams through in ``_RECV`` pieces.  Blob responses are
copied from the file in 1 MiB pieces.  After each response any unread body
is drained so keep-alive works.  TLS handshakes run in the connection
thread, never in the accept loop.  This is the only module that knows h11.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from email.utils import formatdate
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

import h11

from .app import RegistryApp
from .messages import ClientGone, FileBody, Request, Response

log = logging.getLogger("dockyard.registry")
access_log = logging.getLogger("dockyard.registry.access")

_RECV = 1 << 20
_SEND = 1 << 20


class _Body:
    """A request body read lazily from h11 (``messages.BodyReader``)."""

    def __init__(self, conn: "_Connection") -> None:
        self._conn = conn
        self._pending = b""
        self.done = False
        self.received = 0

    def read(self, n: int = -1) -> bytes:
        while not self._pending and not self.done:
            ev = self._conn.next_event()
            if isinstance(ev, h11.Data):
                self._pending = bytes(ev.data)
                self.received += len(self._pending)
            elif isinstance(ev, h11.EndOfMessage):
                self.done = True
            else:
                raise ClientGone()
        if n < 0 or n >= len(self._pending):
            out, self._pending = self._pending, b""
        else:
            out, self._pending = self._pending[:n], self._pending[n:]
        return out

    def drain(self) -> None:
        while not self.done:
            self._pending = b""
            self.read()


class _Connection:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=64 << 10)

    def next_event(self) -> Any:
        while True:
            try:
                ev = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                raise ClientGone() from exc
            if ev is h11.NEED_DATA:
                try:
                    data = self.sock.recv(_RECV)
                except OSError as exc:
                    raise ClientGone() from exc
                self.h11.receive_data(data)
                continue
            return ev

    def send(self, event: Any) -> None:
        data = self.h11.send(event)
        if data:
            self.sock.sendall(data)


class RegistryServer:
    """``serve_forever`` in one thread, ``shutdown`` from another (or a signal handler)."""

    def __init__(self, app: RegistryApp, host: str, port: int, *, tls: ssl.SSLContext | None = None) -> None:
        self.app = app
        self.tls = tls
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.listener = socket.socket(family, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, port))
        self.listener.listen(256)
        self._stop = threading.Event()

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.listener.getsockname()[:2]
        return host, port

    @property
    def url(self) -> str:
        host, port = self.address
        host = f"[{host}]" if ":" in host else host
        return f"{'https' if self.tls else 'http'}://{host}:{port}"

    def serve_forever(self) -> None:
        self.listener.settimeout(0.1)  # to notice shutdown without a wake-up pipe
        try:
            while not self._stop.is_set():
                try:
                    sock, peer = self.listener.accept()
                except (TimeoutError, socket.timeout):
                    continue
                except OSError:
                    if self._stop.is_set():
                        break
                    continue
                sock.settimeout(None)
                threading.Thread(target=self._serve, args=(sock, peer), daemon=True).start()
        finally:
            self.listener.close()

    def shutdown(self) -> None:
        self._stop.set()

    # -- one connection -------------------------------------------------------
    def _serve(self, sock: socket.socket, peer: Any) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_side=True)
            conn = _Connection(sock)
            while True:
                ev = conn.next_event()
                if not isinstance(ev, h11.Request):
                    return
                if not self._serve_one(conn, ev, f"{peer[0]}"):
                    return
                if conn.h11.our_state is h11.DONE and conn.h11.their_state is h11.DONE:
                    conn.h11.start_next_cycle()
                else:
                    return
        except (ClientGone, OSError, ssl.SSLError, h11.LocalProtocolError):
            return
        except Exception:
            log.exception("connection handler crashed")
        finally:
            try:
                sock.close()
            except OSError:
                pass

    def _serve_one(self, conn: _Connection, ev: h11.Request, remote: str) -> bool:
        started = time.monotonic()
        target = ev.target.decode("latin-1")
        raw_path, _, query = target.partition("?")
        headers: dict[str, str] = {}
        for name, value in ev.headers:
            key, val = name.decode("latin-1").lower(), value.decode("latin-1")
            headers[key] = f"{headers[key]}, {val}" if key in headers else val
        host = headers.get("host") or "%s:%d" % self.address
        body = _Body(conn)
        method = ev.method.decode("ascii")
        req = Request(method, unquote(raw_path), query, headers, body,
                      f"{'https' if self.tls else 'http'}://{host}", remote)
        try:
            resp, endpoint = self.app.handle(req)
        except ClientGone:
            self._log(req, 499, 0, body.received, "gone", started)
            return False
        sent = self._send(conn, resp, head=(method == "HEAD"))
        self._log(req, resp.status, sent, body.received, endpoint, started)
        body.drain()
        return True

    def _send(self, conn: _Connection, resp: Response, *, head: bool) -> int:
        headers = [("Date", formatdate(usegmt=True)), *resp.headers]
        if resp.status not in (204, 304):
            headers.append(("Content-Length", str(resp.length())))
        conn.send(h11.Response(status_code=resp.status, headers=headers, reason=_reason(resp.status)))
        sent = 0
        if isinstance(resp.body, FileBody):
            with resp.body.file as f:
                if not head:
                    f.seek(resp.body.offset)
                    left = resp.body.length
                    while left > 0:
                        chunk = f.read(min(_SEND, left))
                        if not chunk:
                            raise OSError("blob shorter than its size")
                        conn.send(h11.Data(data=chunk))
                        left -= len(chunk)
                        sent += len(chunk)
        elif resp.body and not head and resp.status not in (204, 304):
            conn.send(h11.Data(data=resp.body))
            sent = len(resp.body)
        conn.send(h11.EndOfMessage())
        return sent

    def _log(self, req: Request, status: int, sent: int, received: int, endpoint: str, started: float) -> None:
        self.app.metrics.observe(req.method, endpoint, status, received, sent)
        access_log.info('%s "%s %s" %d %d %d %.1fms', req.remote, req.method,
                        req.path + ("?" + req.query if req.query else ""), status, received, sent,
                        (time.monotonic() - started) * 1000)


def _reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""
