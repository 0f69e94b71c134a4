"""HTTP/1.1 over a UNIX socket: one thread per connection, parsed by h11.

Theory of operation: the accept loop hands each connection to a thread that
drives an ``h11.Connection``.  The services are synchronous, so a blocking
thread per client is the simplest correct model, and a hijacked attach
stream is just the same socket used raw.  Per request:

1. h11 yields the ``Request`` head; the body stays on the wire and is read
   lazily through ``Request.body`` (``images/load`` streams a tarball).
2. The router picks the handler (404/400 version errors via errors.py).
3. The result is written: whole body, chunked stream, or hijack.
4. Unread body bytes are drained, then h11 starts the next cycle
   (keep-alive) unless either side asked to close.

The h11 connection, lazy body and keep-alive loop are shared with the
registry server (``dockyard/httpserver/connection.py``); streaming,
hijack and the listeners are this module's.
"""

from __future__ import annotations

import io
import logging
import os
import select
import socket
import stat
import threading
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

import h11

import dockyard
from dockyard.errors import Unavailable
from dockyard.httpserver.connection import H11Connection, PeerGone, RequestBody, RequestHead, reason, serve_connection
from dockyard.wire.versions import API_VERSION

from .errors import error_response
from .messages import HijackResponse, Request, Response, StreamResponse
from .routes import Router

log = logging.getLogger("dockyard.api")

SERVER_HEADER = f"Dockyard/{dockyard.__version__} (linux)"
_RECV = 65536


def common_headers() -> list[tuple[str, str]]:
    """Headers every Docker response carries."""
    return [
        ("Api-Version", API_VERSION),
        ("Docker-Experimental", "false"),
        ("Ostype", "linux"),
        ("Server", SERVER_HEADER),
        ("Date", formatdate(usegmt=True)),
    ]


def _peer_gone(sock: socket.socket) -> bool:
    """True when the client has closed its end (hang-up, error or EOF)."""
    poller = select.poll()
    try:
        poller.register(sock.fileno(), select.POLLIN | select.POLLRDHUP)
    except ValueError:
        return True
    for _, ev in poller.poll(0):
        if ev & (select.POLLHUP | select.POLLERR | select.POLLNVAL | select.POLLRDHUP):
            return True
        if ev & select.POLLIN:
            try:
                return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
            except BlockingIOError:
                return False
            except ValueError:
                return False  # a TLS socket cannot peek; RDHUP above tells a closed peer
            except OSError:
                return True
    return False


class _RawBody(io.RawIOBase):
    """The lazy request body as a raw stream, for ``Request.body``'s BufferedReader."""

    def __init__(self, body: RequestBody) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        data = self._body.read(len(buf))
        buf[:len(data)] = data
        return len(data)


class _Hijacked:
    """``RawConnection`` over the socket, replaying bytes h11 had buffered."""

    def __init__(self, sock: socket.socket, buffered: bytes) -> None:
        self._sock = sock
        self._buffered = buffered

    def recv(self, n: int = _RECV) -> bytes:
        if self._buffered:
            data, self._buffered = self._buffered[:n], self._buffered[n:]
            return data
        try:
            return self._sock.recv(n)
        except OSError:
            return b""

    def sendall(self, data: bytes) -> None:
        self._sock.sendall(data)

    def wait_hangup(self, timeout: float) -> bool:
        # POLLHUP is reported even with an empty event mask.  On a UNIX socket
        # it means the peer closed both directions (a CloseWrite only gives
        # EOF), which is how we tell "client done sending" from "client gone".
        poller = select.poll()
        try:
            poller.register(self._sock.fileno(), 0)
        except ValueError:
            return True
        events = poller.poll(timeout * 1000)
        return any(ev & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _, ev in events)


class ApiServer:
    """Serves the Docker Engine API on ``socket_path``.

    Usage: ``server = ApiServer(services, path); server.bind()`` (optional:
    ``serve_forever`` binds if needed) then ``serve_forever()`` in one thread
    and ``shutdown()`` from another.
    """

    def __init__(self, services: Any, socket_path: Path, *, router: Router | None = None,
                 tcp_listeners: tuple[Any, ...] = (), socket_group: str = "") -> None:
        if router is None:
            from .handlers import build_router

            router = build_router(services)
        self.router = router
        self.socket_path = Path(socket_path)
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._serving = False
        self._wake_r, self._wake_w = os.pipe()
        # daemon/api/tls.py TcpListener objects (bound already): accept + wrap(conn)
        self._tcp = list(tcp_listeners)
        self._socket_group = socket_group  # --group: the socket is 0660 root:<group>

    def bind(self) -> None:
        if self._listener is not None:
            return
        path = self.socket_path
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() or path.is_symlink():
            if not stat.S_ISSOCK(path.lstat().st_mode):
                raise Unavailable(f"{path} exists and is not a socket")
            if _answers(path):
                raise Unavailable(f"another daemon is already listening on {path}")
            path.unlink()  # stale socket from a daemon that died
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(path))
        os.chmod(path, 0o660)  # owner + group (Docker's "docker" group model)
        _chgrp(path, self._socket_group)
        sock.listen(128)
        self._listener = sock

    def serve_forever(self) -> None:
        self.bind()
        assert self._listener is not None
        listener = self._listener
        self._serving = True
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([listener, self._wake_r, *self._tcp], [], [])
                if self._wake_r in ready or self._stop.is_set():
                    break
                for tcp in (r for r in ready if r in self._tcp):
                    try:
                        conn = tcp.accept()
                    except OSError:
                        continue
                    threading.Thread(target=self._serve_tcp, args=(tcp, conn), daemon=True).start()
                if listener not in ready:
                    continue
                try:
                    conn, _ = listener.accept()
                except OSError:
                    continue
                threading.Thread(target=self._serve_connection, args=(conn,), daemon=True).start()
        finally:
            self._close_listener()

    def shutdown(self) -> None:
        """Stop accepting and remove the socket file; in-flight requests finish."""
        self._stop.set()
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass
        if self._listener is not None and not self._serving:
            self._close_listener()  # bound but never served

    def _close_listener(self) -> None:
        for tcp in self._tcp:
            tcp.close()
        self._tcp = []
        if self._listener is not None:
            self._listener.close()
            self._listener = None
            try:
                self.socket_path.unlink()
            except FileNotFoundError:
                pass

    # -- one connection -------------------------------------------------

    def _serve_tcp(self, tcp: Any, conn: socket.socket) -> None:
        wrapped = tcp.wrap(conn)  # TLS handshake, client certificate checked; None = refused
        if wrapped is not None:
            self._serve_connection(wrapped)

    def _serve_connection(self, sock: socket.socket) -> None:
        wire = H11Connection(sock, recv_size=_RECV)
        serve_connection(wire, lambda ev: self._serve_request(wire, ev), reject=self._reject, log=log,
                         quiet=(PeerGone, BrokenPipeError, ConnectionResetError, h11.LocalProtocolError))

    def _reject(self, wire: H11Connection, exc: h11.RemoteProtocolError) -> None:
        try:
            body = b'{"message":"bad request"}\n'
            wire.send(h11.Response(status_code=exc.error_status_hint, headers=[("Content-Length", str(len(body))), ("Connection", "close")] + common_headers()))
            wire.send(h11.Data(data=body))
            wire.send(h11.EndOfMessage())
        except Exception:
            pass

    def _serve_request(self, wire: H11Connection, ev: h11.Request) -> bool:
        """Handle one request; False when the connection must end."""
        head = RequestHead.parse(ev)
        method, target, headers = head.method, head.target, head.headers
        raw_body = RequestBody(wire)
        req: Request | None = None
        try:
            match = self.router.resolve(method, unquote(head.raw_path))
            req = Request(
                method=method,
                path=match.path,
                query=parse_qs(head.query, keep_blank_values=True),
                headers=headers,
                body=io.BufferedReader(_RawBody(raw_body), _RECV),
                api_version=match.api_version,
                params=match.params,
            )
            result: Any = match.handler(req)
        except PeerGone:
            return False
        except Exception as exc:  # kinds → status in errors.py; others logged as 500
            result = error_response(exc)
        log.debug("%s %s", method, target)
        if isinstance(result, HijackResponse):
            assert req is not None
            self._hijack(wire, raw_body, req, result)
            return False
        if isinstance(result, StreamResponse):
            self._send_stream(wire, result)
        else:
            self._send_whole(wire, result, head=(method == "HEAD"))
        raw_body.drain()  # keep-alive needs the request fully read
        return True

    def _send_whole(self, wire: H11Connection, resp: Response, *, head: bool) -> None:
        headers = common_headers() + resp.headers
        if resp.content_type:
            headers.append(("Content-Type", resp.content_type))
        if resp.status != 304 and not (100 <= resp.status < 200) and resp.status != 204:
            headers.append(("Content-Length", str(len(resp.body))))
        wire.send(h11.Response(status_code=resp.status, headers=headers, reason=reason(resp.status)))
        if resp.body and not head and resp.status not in (204, 304):
            wire.send(h11.Data(data=resp.body))
        wire.send(h11.EndOfMessage())

    def _send_stream(self, wire: H11Connection, resp: StreamResponse) -> None:
        headers = common_headers() + resp.headers + [("Content-Type", resp.content_type)]
        # No Content-Length: h11 picks chunked for HTTP/1.1 (close-delimited for 1.0).
        wire.send(h11.Response(status_code=resp.status, headers=headers, reason=reason(resp.status)))
        chunks = iter(resp.chunks)
        try:
            for chunk in chunks:
                if chunk:
                    wire.send(h11.Data(data=chunk))
                elif _peer_gone(wire.sock):
                    break  # an empty chunk is a heartbeat: a long stream (events) ends when the client left
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # a generator's finally releases follow/wait resources
        wire.send(h11.EndOfMessage())

    def _hijack(self, wire: H11Connection, body: RequestBody, req: Request, resp: HijackResponse) -> None:
        body.drain()
        buffered, _ = wire.h11.trailing_data
        lines = []
        if resp.switch is not None:
            lines.append(resp.switch[0])
            lines += [f"{k}: {v}" for k, v in resp.switch[1]]
        elif req.wants_upgrade:
            lines.append("HTTP/1.1 101 UPGRADED")
            lines += [f"Content-Type: {resp.content_type}", "Connection: Upgrade", "Upgrade: tcp"]
        else:
            # Docker without Upgrade: 200, raw bytes, no chunking, close at the end.
            lines.append("HTTP/1.1 200 OK")
            lines.append(f"Content-Type: {resp.content_type}")
        lines += [f"{k}: {v}" for k, v in common_headers()]
        wire.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        try:
            resp.run(_Hijacked(wire.sock, bytes(buffered)))
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception:
            log.exception("hijacked stream handler failed")
        finally:
            try:
                wire.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _chgrp(path: Path, group: str) -> None:
    """Give the socket to ``group`` (Docker: warn and go on when the group is missing)."""
    if not group:
        return
    import grp

    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError:
        log.warning("could not change group %s to %s: group %s not found", path, group, group)
        return
    os.chown(path, 0, gid)


def _answers(path: Path) -> bool:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        s.close()
