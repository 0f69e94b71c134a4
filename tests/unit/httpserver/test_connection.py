"""dockyard/httpserver/connection.py over a socketpair: keep-alive, lazy bodies, bad heads, gone peers."""

from __future__ import annotations

import logging
import socket
import threading
from typing import Callable

import h11
import pytest

from dockyard.httpserver.connection import H11Connection, PeerGone, RequestBody, RequestHead, reason, serve_connection

log = logging.getLogger("test.httpserver")


class Gone(Exception):
    pass


def _serve(sock: socket.socket, answer: Callable[[H11Connection, h11.Request], bool], **kw) -> threading.Thread:
    conn = H11Connection(sock, recv_size=7, gone=Gone)  # tiny reads: bodies arrive in many pieces
    t = threading.Thread(target=serve_connection, args=(conn, lambda ev: answer(conn, ev)),
                         kwargs={"quiet": (Gone, OSError), "log": log, **kw}, daemon=True)
    t.start()
    return t


def _reply(conn: H11Connection, status: int, body: bytes) -> None:
    conn.send(h11.Response(status_code=status, headers=[("Content-Length", str(len(body)))], reason=reason(status)))
    conn.send(h11.Data(data=body))
    conn.send(h11.EndOfMessage())


def _recv_all(sock: socket.socket) -> bytes:
    sock.settimeout(10)
    out = b""
    while chunk := sock.recv(65536):
        out += chunk
    return out


def test_keep_alive_serves_requests_in_turn_and_bodies_stream_lazily() -> None:
    ours, theirs = socket.socketpair()
    seen: list[tuple[str, str, bytes, int]] = []

    def answer(conn: H11Connection, ev: h11.Request) -> bool:
        head = RequestHead.parse(ev)
        body = RequestBody(conn)
        first = body.read(3)
        rest = b""
        while piece := body.read():
            rest += piece
        seen.append((head.method, head.raw_path, first + rest, body.received))
        _reply(conn, 200, head.query.encode())
        return True

    t = _serve(ours, answer)
    payload = b"0123456789" * 5
    theirs.sendall(b"POST /a%20b?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: " + str(len(payload)).encode()
                   + b"\r\n\r\n" + payload
                   + b"GET /second HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    out = _recv_all(theirs)
    t.join(10)
    assert not t.is_alive()
    assert out.count(b"HTTP/1.1 200 OK") == 2 and b"x=1" in out
    assert seen == [("POST", "/a%20b", payload, len(payload)), ("GET", "/second", b"", 0)]
    theirs.close()


def test_unread_body_can_be_drained_before_the_next_cycle() -> None:
    ours, theirs = socket.socketpair()

    def answer(conn: H11Connection, ev: h11.Request) -> bool:
        body = RequestBody(conn)
        _reply(conn, 204 if ev.target == b"/skip" else 200, b"")
        body.drain()
        return True

    t = _serve(ours, answer)
    theirs.sendall(b"PUT /skip HTTP/1.1\r\nHost: h\r\nContent-Length: 20\r\n\r\n" + b"z" * 20
                   + b"GET /next HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    out = _recv_all(theirs)
    t.join(10)
    assert b"204 No Content" in out and b"200 OK" in out
    theirs.close()


def test_a_malformed_head_goes_to_reject_and_the_socket_closes() -> None:
    ours, theirs = socket.socketpair()
    rejected: list[int] = []

    def reject(conn: H11Connection, exc: h11.RemoteProtocolError) -> None:
        rejected.append(exc.error_status_hint)
        _reply(conn, exc.error_status_hint, b"bad")

    t = _serve(ours, lambda conn, ev: pytest.fail("no request expected"), reject=reject)
    theirs.sendall(b"NOT HTTP AT ALL\r\n\r\n")
    out = _recv_all(theirs)
    t.join(10)
    assert rejected == [400] and out.startswith(b"HTTP/1.1 400 Bad Request")
    theirs.close()


def test_a_peer_leaving_mid_body_raises_the_given_gone() -> None:
    ours, theirs = socket.socketpair()
    raised: list[type[BaseException]] = []

    def answer(conn: H11Connection, ev: h11.Request) -> bool:
        try:
            RequestBody(conn).read(100)
            RequestBody(conn).drain()
        except Exception as exc:
            raised.append(type(exc))
            raise
        return True

    t = _serve(ours, answer)
    theirs.sendall(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\npartial")
    theirs.close()
    t.join(10)
    assert raised == [Gone] and ours.fileno() == -1  # serve_connection closed its socket


def test_default_gone_and_head_parsing() -> None:
    a, b = socket.socketpair()
    with a, b:
        assert issubclass(PeerGone, Exception) and H11Connection(a).gone is PeerGone
    ev = h11.Request(method="GET", target="/v1.41/x?a=b&c", headers=[("Host", "h"), ("X-A", "1"), ("x-a", "2")])
    head = RequestHead.parse(ev)
    assert (head.method, head.target, head.raw_path, head.query) == ("GET", "/v1.41/x?a=b&c", "/v1.41/x", "a=b&c")
    assert head.headers == {"host": "h", "x-a": "1, 2"}
    assert reason(404) == b"Not Found" and reason(599) == b""
