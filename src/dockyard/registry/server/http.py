"""The HTTP/1.1 driver: TCP (optionally TLS), a thread per connection, parsed by h11.

Theory of operation: the connection, its lazy request body and the
keep-alive loop are the daemon API server's too
(``dockyard/httpserver/connection.py``): the accept loop hands each
connection to a thread; the thread gives the app a ``Request`` whose body
is pulled from h11 only as the handler reads it, so a 100 MB layer streams
through in ``_RECV`` pieces.  Blob responses are copied from the file in
1 MiB pieces.  After each response any unread body is drained so
keep-alive works.  TLS handshakes run in the connection thread, never in
the accept loop.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from email.utils import formatdate
from typing import Any
from urllib.parse import unquote

import h11

from dockyard.httpserver.connection import H11Connection, RequestBody, RequestHead, reason, serve_connection

from .app import RegistryApp
from .messages import ClientGone, FileBody, Request, Response

log = logging.getLogger("dockyard.registry")
access_log = logging.getLogger("dockyard.registry.access")

_RECV = 1 << 20
_SEND = 1 << 20


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
        if self.tls is not None:
            try:
                sock = self.tls.wrap_socket(sock, server_side=True)
            except OSError:  # ssl.SSLError included: a failed handshake
                sock.close()
                return
        conn = H11Connection(sock, recv_size=_RECV, max_head=64 << 10, gone=ClientGone)
        serve_connection(conn, lambda ev: self._serve_one(conn, ev, f"{peer[0]}"), log=log,
                         quiet=(ClientGone, OSError, ssl.SSLError, h11.LocalProtocolError))

    def _serve_one(self, conn: H11Connection, ev: h11.Request, remote: str) -> bool:
        started = time.monotonic()
        head = RequestHead.parse(ev)
        method, headers = head.method, head.headers
        host = headers.get("host") or "%s:%d" % self.address
        body = RequestBody(conn)
        req = Request(method, unquote(head.raw_path), head.query, headers, body,
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

    def _send(self, conn: H11Connection, resp: Response, *, head: bool) -> int:
        headers = [("Date", formatdate(usegmt=True)), *resp.headers]
        if resp.status not in (204, 304):
            headers.append(("Content-Length", str(resp.length())))
        conn.send(h11.Response(status_code=resp.status, headers=headers, reason=reason(resp.status)))
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
