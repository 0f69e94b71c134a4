"""Docker's ``local`` log driver file format, sans-I/O.

moby's daemon/logger/local writes ``<container dir>/local-logs/container.log``
as a sequence of frames::

    uint32 big-endian N | N bytes: protobuf LogEntry | uint32 big-endian N

(the trailing length lets a reader walk backwards for ``--tail``).  The
message is ``api/types/plugins/logdriver/entry.proto``::

    LogEntry { string source = 1; int64 time_nano = 2; bytes line = 3; bool partial = 4;
               PartialLogEntryMetadata partial_log_metadata = 5; }
    PartialLogEntryMetadata { bool last = 1; string id = 2; int32 ordinal = 3; }

``line`` has no trailing newline; a reader adds one unless the entry is a
partial that is not the last of its line.  The protobuf encoding (varints and
length-delimited fields, defaults omitted as proto3 does) is written by hand:
five fields need no generated code.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Callable

MAX_MSG = 1_000_000  # moby's maxMsgLen: a larger length means a torn or foreign file
_U32 = struct.Struct(">I")


@dataclass(frozen=True, slots=True)
class Entry:
    source: str  # "stdout" | "stderr"
    time_nano: int
    line: bytes  # without its newline
    partial: bool = False
    last: bool = False  # of a partial: the final piece of its line
    partial_id: str = ""
    ordinal: int = 0

    @property
    def ends_line(self) -> bool:
        return not self.partial or self.last


_SMALL = [bytes((i,)) for i in range(128)]


def _varint(n: int) -> bytes:
    if 0 <= n < 128:
        return _SMALL[n]
    n &= (1 << 64) - 1  # negative int64 as two's complement, as protobuf does
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(num: int, wire: int) -> bytes:
    return _varint(num << 3 | wire)


def _bytes_field(num: int, data: bytes) -> bytes:
    return _field(num, 2) + _varint(len(data)) + data if data else b""


def _int_field(num: int, value: int) -> bytes:
    return _field(num, 0) + _varint(value) if value else b""


_SOURCES = {"stdout": b"\x0a\x06stdout", "stderr": b"\x0a\x06stderr"}  # field 1, pre-encoded


def encode(e: Entry) -> bytes:
    """One frame (length, LogEntry, length)."""
    source = _SOURCES.get(e.source) or _bytes_field(1, e.source.encode())
    msg = (source + (b"\x10" + _varint(e.time_nano) if e.time_nano else b"")
           + (b"\x1a" + _varint(len(e.line)) + e.line if e.line else b"") + (b"\x20\x01" if e.partial else b""))
    if e.partial:
        meta = _int_field(1, int(e.last)) + _bytes_field(2, e.partial_id.encode()) + _int_field(3, e.ordinal)
        msg += _field(5, 2) + _varint(len(meta)) + meta
    n = struct.pack(">I", len(msg))
    return n + msg + n


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes) -> dict[int, int | bytes]:
    """A message's fields (the last of each number wins, as protobuf); unknown wire types refused."""
    out: dict[int, int | bytes] = {}
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        num, wire = key >> 3, key & 7
        if wire == 0:
            out[num], pos = _read_varint(buf, pos)
        elif wire == 2:
            size, pos = _read_varint(buf, pos)
            if pos + size > len(buf):
                raise ValueError("truncated field")
            out[num], pos = buf[pos:pos + size], pos + size
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            out[num], pos = int.from_bytes(buf[pos:pos + width], "little"), pos + width
        else:
            raise ValueError(f"unsupported wire type {wire}")
    return out


def _bytes(f: dict[int, int | bytes], num: int) -> bytes:
    v = f.get(num, b"")
    return v if isinstance(v, bytes) else b""


def _int(f: dict[int, int | bytes], num: int) -> int:
    v = f.get(num, 0)
    return v if isinstance(v, int) else 0


def decode_message(buf: bytes) -> Entry:
    f = _fields(buf)
    meta = _fields(_bytes(f, 5))
    time_nano = _int(f, 2)
    if time_nano >= 1 << 63:  # int64 from its two's complement varint
        time_nano -= 1 << 64
    return Entry(source=_bytes(f, 1).decode(errors="replace"), time_nano=time_nano, line=_bytes(f, 3),
                 partial=bool(_int(f, 4)), last=bool(_int(meta, 1)),
                 partial_id=_bytes(meta, 2).decode(errors="replace"), ordinal=_int(meta, 3))


def decode_frames(buf: bytes) -> tuple[list[Entry], bytes]:
    """The whole frames at the start of ``buf`` and the unread rest (a frame still being written).
    A frame that cannot be decoded ends the walk: its bytes stay in the rest, as moby's reader
    retries them once more data arrives."""
    entries: list[Entry] = []
    pos = 0
    while len(buf) - pos >= 4:
        (size,) = struct.unpack_from(">I", buf, pos)
        if size > MAX_MSG or len(buf) - pos < size + 8:
            break
        try:
            entries.append(decode_message(buf[pos + 4:pos + 4 + size]))
        except ValueError:
            break
        pos += size + 8
    return entries, buf[pos:]


class LocalLogEncoder:
    """Both streams of one container -> local frames to append to the log: the shim's encoder
    for this driver (``LogWriter.encoder``), so no json-file round trip.  Lines are cut as
    jsonlog's (``LineSplitter``: 16 KiB pieces, the rest at EOF) and carry Docker's partial
    metadata: one id per cut line, ordinals from 1, ``last`` on the piece that ends it.  The
    bytes stay as the process wrote them (Docker's ``line`` is bytes, not text)."""

    def __init__(self, clock_ns: Callable[[], int] | None = None, max_line: int = 0,
                 new_id: Callable[[], str] | None = None) -> None:
        import secrets
        import time

        from dockyard.runtime.jsonlog import MAX_LINE, LineSplitter

        self._clock = clock_ns or time.time_ns
        self._new_id = new_id or (lambda: secrets.token_hex(32))
        self._split = {1: LineSplitter(max_line or MAX_LINE), 2: LineSplitter(max_line or MAX_LINE)}
        self._open: dict[int, tuple[str, int]] = {}  # stream -> (id, last ordinal) of a line being cut

    def feed(self, stream: int, data: bytes) -> bytes:
        return self._encode(stream, self._split[stream].feed(data))

    def close(self, stream: int) -> bytes:
        return self._encode(stream, self._split[stream].flush())

    def _encode(self, stream: int, lines: list[bytes]) -> bytes:
        if not lines:
            return b""
        ns = self._clock()
        # source and time are the same for every line of one read: encoded once
        head = _SOURCES["stdout" if stream == 1 else "stderr"] + (b"\x10" + _varint(ns) if ns else b"")
        pack = _U32.pack
        out: list[bytes] = []
        for text in lines:
            if text[-1:] == b"\n" and stream not in self._open:  # the common case, inlined
                n = len(text) - 1
                body = head + b"\x1a" + _varint(n) + text[:-1] if n else head
                size = pack(len(body))
                out += (size, body, size)
                continue
            ends = text[-1:] == b"\n"
            pid, ordinal = self._open.pop(stream) if stream in self._open else (self._new_id(), 0)
            source = "stdout" if stream == 1 else "stderr"
            out.append(encode(Entry(source, ns, text[:-1] if ends else text, True, ends, pid, ordinal + 1)))
            if not ends:
                self._open[stream] = (pid, ordinal + 1)
        return b"".join(out)


def split_frames(data: bytes) -> list[bytes]:
    """Whole frames of ``data`` one by one (LogWriter rotates between them, never inside one)."""
    out: list[bytes] = []
    pos = 0
    while len(data) - pos >= 4:
        (size,) = struct.unpack_from(">I", data, pos)
        out.append(data[pos:pos + size + 8])
        pos += size + 8
    return out
