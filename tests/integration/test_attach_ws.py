"""``GET /containers/{id}/attach/ws`` with a small stdlib websocket client (no third-party library)."""

from __future__ import annotations

import base64
import os
import socket
import time

from dockyard.wire import websocket as ws

from .conftest import Daemon


class WsClient:
    def __init__(self, sock_path: str, path: str, version: str = "v1.47") -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(15)
        self.sock.connect(sock_path)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /{version}{path} HTTP/1.1\r\nHost: docker\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            data = self.sock.recv(4096)
            assert data, head
            head += data
        head, _, rest = head.partition(b"\r\n\r\n")
        self.status_line, *lines = head.decode().split("\r\n")
        self.headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
        self.accept_ok = self.headers.get("sec-websocket-accept") == ws.accept_key(key)
        self.dec = ws.Decoder(masked=False)
        self.pending = self.dec.feed(rest) if self.status_line.split()[1] == "101" else []

    def send(self, opcode: int, data: bytes) -> None:
        self.sock.sendall(ws.encode_frame(opcode, data, mask=ws.client_mask()))

    def messages_until(self, pred, timeout: float = 15) -> list[ws.Message]:
        got: list[ws.Message] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got += self.pending
            self.pending = []
            if pred(got):
                return got
            data = self.sock.recv(65536)
            if not data:
                break
            self.pending = self.dec.feed(data)
        return got

    def close(self) -> None:
        self.sock.close()


def _data(msgs: list[ws.Message]) -> bytes:
    return b"".join(m.data for m in msgs if m.opcode in (ws.BINARY, ws.TEXT))


def test_ws_attach_stdin_to_output_binary_frames_ping_and_close(daemon: Daemon) -> None:
    cid = daemon.cli("run", "-d", "-i", "busybox", "sh", "-c", "while read l; do echo got:$l; done", check=True) \
        .stdout.decode().strip()
    try:
        c = WsClient(str(daemon.socket), f"/containers/{cid}/attach/ws?stream=1&stdin=1&stdout=1&stderr=1")
        try:
            assert c.status_line.startswith("HTTP/1.1 101"), c.status_line
            assert c.accept_ok and c.headers.get("upgrade", "").lower() == "websocket"
            c.send(ws.TEXT, b"hello\n")
            c.send(ws.PING, b"hb")
            msgs = c.messages_until(lambda m: b"got:hello\n" in _data(m) and any(x.opcode == ws.PONG for x in m))
            assert b"got:hello\n" in _data(msgs)
            assert all(m.opcode in (ws.BINARY, ws.PONG) for m in msgs)  # API >= 1.28: binary frames
            assert ws.Message(ws.PONG, b"hb") in msgs
            c.send(ws.CLOSE, ws.close_payload(1000))
            closing = c.messages_until(lambda m: any(x.opcode == ws.CLOSE for x in m))
            assert any(x.opcode == ws.CLOSE for x in closing)
            assert c.sock.recv(100) == b""  # the closing handshake ends the attach (and the TCP side)
        finally:
            c.close()
        # a client leaving does not stop the container
        assert daemon.cli("inspect", "-f", "{{.State.Running}}", cid, check=True).stdout.strip() == b"true"
    finally:
        daemon.cli("rm", "-f", cid)


def test_ws_attach_logs_replay_text_frames_for_old_api_and_end_with_the_container(daemon: Daemon) -> None:
    cid = daemon.cli("run", "-d", "-i", "busybox", "sh", "-c", "echo before; read x; echo after",
                            check=True).stdout.decode().strip()
    try:
        deadline = time.monotonic() + 10
        while b"before" not in daemon.cli("logs", cid).stdout and time.monotonic() < deadline:
            time.sleep(0.05)
        c = WsClient(str(daemon.socket), f"/containers/{cid}/attach/ws?logs=1&stream=1", version="v1.27")
        try:
            assert c.status_line.startswith("HTTP/1.1 101")
            msgs = c.messages_until(lambda m: b"before\n" in _data(m))
            assert b"before\n" in _data(msgs)
            c.send(ws.BINARY, b"go\n")  # before 1.42 stdin is attached whatever the query says
            msgs = c.messages_until(lambda m: any(x.opcode == ws.CLOSE for x in m))
            assert b"after\n" in _data(msgs)
            assert all(m.opcode in (ws.TEXT, ws.CLOSE) for m in msgs)  # API < 1.28: text frames
        finally:
            c.close()
    finally:
        daemon.cli("rm", "-f", cid)


def test_ws_attach_refuses_a_plain_request_and_unknown_containers(daemon: Daemon) -> None:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(str(daemon.socket))
    s.sendall(b"GET /v1.47/containers/nosuch/attach/ws HTTP/1.1\r\nHost: d\r\n\r\n")
    assert s.recv(4096).startswith(b"HTTP/1.1 404")
    s.close()
    cid = daemon.cli("create", "busybox", "true", check=True).stdout.decode().strip()
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(str(daemon.socket))
        s.sendall(f"GET /v1.47/containers/{cid}/attach/ws HTTP/1.1\r\nHost: d\r\n\r\n".encode())
        assert s.recv(4096).startswith(b"HTTP/1.1 400")
        s.close()
    finally:
        daemon.cli("rm", "-f", cid)
