"""RFC 6455 WebSockets, sans-I/O: the server handshake and the framing.

Just what ``GET /containers/{id}/attach/ws`` needs (Docker serves it with
golang.org/x/net/websocket): a server that accepts version 13, sends
unfragmented data frames (binary for API >= 1.28, text before), reads the
client's masked frames (fragments reassembled), answers pings and echoes a
close.  No extensions, no subprotocols.  The driver owns the socket; this
module only turns bytes into events and events into bytes (h11's shape).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_DATA = {CONT, TEXT, BINARY}
_CONTROL = {CLOSE, PING, PONG}

# Close codes (RFC 6455 7.4.1)
NORMAL, PROTOCOL_ERROR, TOO_BIG = 1000, 1002, 1009

MAX_MESSAGE = 16 << 20  # a stdin message larger than this is refused (1009)


class HandshakeError(Exception):
    """The request is not a WebSocket upgrade we accept: answer ``status`` with ``headers``."""

    def __init__(self, message: str, status: int = 400, headers: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.status, self.headers = status, headers


class ProtocolError(Exception):
    """The peer broke the framing rules; close with ``code``."""

    def __init__(self, message: str, code: int = PROTOCOL_ERROR) -> None:
        super().__init__(message)
        self.code = code


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a ``Sec-WebSocket-Key``."""
    return base64.b64encode(hashlib.sha1((key + GUID).encode("ascii")).digest()).decode("ascii")


def server_handshake(method: str, headers: Mapping[str, str]) -> list[tuple[str, str]]:
    """Validate an opening handshake (lower-case header names); the 101's headers, or HandshakeError."""
    if method != "GET":
        raise HandshakeError("websocket: the handshake must be a GET request", 405)
    tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
    if "upgrade" not in tokens or headers.get("upgrade", "").strip().lower() != "websocket":
        raise HandshakeError("websocket: not a websocket handshake: 'Upgrade: websocket' and 'Connection: Upgrade' expected")
    if headers.get("sec-websocket-version", "").strip() != "13":
        raise HandshakeError("websocket: unsupported version", 400, (("Sec-WebSocket-Version", "13"),))
    key = headers.get("sec-websocket-key", "").strip()
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            raise ValueError(key)
    except (ValueError, binascii.Error):
        raise HandshakeError("websocket: bad Sec-WebSocket-Key") from None
    return [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", accept_key(key))]


def encode_frame(opcode: int, payload: bytes = b"", *, fin: bool = True, mask: bytes | None = None) -> bytes:
    """One frame; ``mask`` (4 bytes) for a client's frames, None for a server's."""
    if opcode in _CONTROL and len(payload) > 125:
        raise ValueError("control frame payload over 125 bytes")
    head = bytearray([(0x80 if fin else 0) | opcode])
    bit = 0x80 if mask is not None else 0
    n = len(payload)
    if n < 126:
        head.append(bit | n)
    elif n < 1 << 16:
        head.append(bit | 126)
        head += struct.pack("!H", n)
    else:
        head.append(bit | 127)
        head += struct.pack("!Q", n)
    if mask is None:
        return bytes(head) + payload
    return bytes(head) + mask + _xor(payload, mask)


def close_payload(code: int, reason: str = "") -> bytes:
    return struct.pack("!H", code) + reason.encode("utf-8")[:123]


def client_mask() -> bytes:
    return os.urandom(4)


def _xor(data: bytes, mask: bytes) -> bytes:
    if not data:
        return b""
    # int-wide XOR: far faster in Python than a byte loop
    n = len(data)
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(key, "little")).to_bytes(n, "little")


@dataclass(frozen=True, slots=True)
class Message:
    """A whole data message (fragments joined) or a control frame."""

    opcode: int
    data: bytes

    @property
    def close_code(self) -> int | None:
        if self.opcode != CLOSE or len(self.data) < 2:
            return None
        return int(struct.unpack("!H", self.data[:2])[0])


class Decoder:
    """Bytes in, ``Message``s out.  ``masked``: what the peer must do (clients mask, servers don't)."""

    def __init__(self, *, masked: bool, max_message: int = MAX_MESSAGE) -> None:
        self._buf = bytearray()
        self._masked = masked
        self._max = max_message
        self._parts: list[bytes] = []
        self._opcode: int | None = None  # of the fragmented message in progress
        self._size = 0

    def feed(self, data: bytes) -> list[Message]:
        self._buf += data
        out: list[Message] = []
        while (frame := self._next_frame()) is not None:
            fin, opcode, payload = frame
            if opcode in _CONTROL:
                if not fin or len(payload) > 125:
                    raise ProtocolError("fragmented or oversized control frame")
                if opcode == CLOSE and len(payload) == 1:
                    raise ProtocolError("close frame with a one-byte payload")
                out.append(Message(opcode, payload))
                continue
            if opcode == CONT:
                if self._opcode is None:
                    raise ProtocolError("continuation frame without a message to continue")
            elif self._opcode is not None:
                raise ProtocolError("new data frame inside a fragmented message")
            else:
                self._opcode = opcode
            self._size += len(payload)
            if self._size > self._max:
                raise ProtocolError("message too big", TOO_BIG)
            self._parts.append(payload)
            if fin:
                out.append(Message(self._opcode, b"".join(self._parts)))
                self._parts, self._opcode, self._size = [], None, 0
        return out

    def _next_frame(self) -> tuple[bool, int, bytes] | None:
        buf = self._buf
        if len(buf) < 2:
            return None
        b0, b1 = buf[0], buf[1]
        if b0 & 0x70:
            raise ProtocolError("reserved bits set (no extension was negotiated)")
        opcode = b0 & 0x0F
        if opcode not in _DATA and opcode not in _CONTROL:
            raise ProtocolError(f"unknown opcode {opcode:#x}")
        masked = bool(b1 & 0x80)
        if masked != self._masked:
            raise ProtocolError("client frames must be masked" if self._masked else "server frames must not be masked")
        n, pos = b1 & 0x7F, 2
        if n == 126:
            if len(buf) < 4:
                return None
            n, pos = struct.unpack_from("!H", buf, 2)[0], 4
        elif n == 127:
            if len(buf) < 10:
                return None
            n, pos = struct.unpack_from("!Q", buf, 2)[0], 10
            if n >> 63:
                raise ProtocolError("frame length has the high bit set")
        if n > self._max:
            raise ProtocolError("frame too big", TOO_BIG)
        key = b""
        if masked:
            if len(buf) < pos + 4:
                return None
            key, pos = bytes(buf[pos:pos + 4]), pos + 4
        if len(buf) < pos + n:
            return None
        payload = bytes(buf[pos:pos + n])
        del buf[:pos + n]
        return bool(b0 & 0x80), opcode, _xor(payload, key) if masked else payload
