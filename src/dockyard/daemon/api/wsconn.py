"""A ``RawConnection`` that speaks WebSocket frames over a hijacked socket.

The thin I/O driver for ``wire/websocket.py``: ``recv`` returns the payload
of the client's data messages (answering pings, echoing a close, which then
reads as EOF), ``sendall`` sends one data frame.  With it, websocket attach
reuses ``streams.pump_output`` unchanged (raw output, as Docker never
multiplexes websocket attach).
"""

from __future__ import annotations

import threading

from dockyard.wire import websocket as ws

from .messages import RawConnection


class WebSocketConnection:
    def __init__(self, conn: RawConnection, *, binary: bool = True) -> None:
        self._conn = conn
        self._opcode = ws.BINARY if binary else ws.TEXT
        self._decoder = ws.Decoder(masked=True)
        self._send_lock = threading.Lock()  # the output pump and the reader (pong, close) both send
        self._closed = False  # our close frame went out
        self._eof = False
        self._peer_closed = False  # the client sent a close frame (or broke the protocol): it is gone

    def recv(self, n: int = 65536) -> bytes:
        while not self._eof:
            data = self._conn.recv(n)
            if not data:
                self._eof = True
                break
            try:
                messages = self._decoder.feed(data)
            except ws.ProtocolError as exc:
                self.close(exc.code, str(exc))
                self._eof = self._peer_closed = True
                break
            out = []
            for msg in messages:
                if msg.opcode in (ws.TEXT, ws.BINARY):
                    out.append(msg.data)
                elif msg.opcode == ws.PING:
                    self._send(ws.encode_frame(ws.PONG, msg.data))
                elif msg.opcode == ws.CLOSE:
                    self.close(msg.close_code or ws.NORMAL)
                    self._eof = self._peer_closed = True
                    break
            if out and (joined := b"".join(out)):
                return joined
        return b""

    def sendall(self, data: bytes) -> None:
        if data:
            self._send(ws.encode_frame(self._opcode, data))

    def wait_hangup(self, timeout: float) -> bool:
        # After the closing handshake the attach is over even if the peer keeps the TCP side open.
        return self._peer_closed or self._conn.wait_hangup(timeout)

    def close(self, code: int = ws.NORMAL, reason: str = "") -> None:
        """Send our close frame once (the server then ends the TCP side)."""
        with self._send_lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._conn.sendall(ws.encode_frame(ws.CLOSE, ws.close_payload(code, reason)))
            except OSError:
                pass

    def _send(self, frame: bytes) -> None:
        with self._send_lock:
            if self._closed:
                raise BrokenPipeError("websocket closed")
            self._conn.sendall(frame)
