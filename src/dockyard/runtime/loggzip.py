"""Rotated log files compressed as Docker's loggerutils does it.

A rotated ``<log>.1`` becomes ``<log>.1.gz``: a gzip member whose header
carries, in its FEXTRA field, ``{"lastTime":"<RFC 3339 ns>"}`` (the time of
the file's last entry, raw bytes as Go's ``gzip.Header.Extra`` writes them)
so a reader can skip whole files by ``--since``.  Python's ``gzip`` module
cannot write FEXTRA, so the member is framed here around ``zlib``'s raw
deflate; any gzip reader (``gzip.open``) reads it.
"""

from __future__ import annotations

import gzip
import json
import os
import struct
import zlib
from pathlib import Path

CHUNK = 1 << 16


def header(last_time: str) -> bytes:
    extra = json.dumps({"lastTime": last_time}, separators=(",", ":")).encode()
    # magic, deflate, FEXTRA, mtime 0, xfl 0, OS unknown (Go's defaults), then XLEN + the extra bytes
    return b"\x1f\x8b\x08\x04" + b"\x00" * 4 + b"\x00\xff" + struct.pack("<H", len(extra)) + extra


def compress_file(src: Path, dst: Path, last_time: str) -> None:
    """``src`` → ``dst`` (gzip, fast level as Docker's), written aside and renamed, then ``src`` removed:
    a reader sees either the plain file or the whole compressed one."""
    tmp = Path(f"{dst}.tmp")
    deflate = zlib.compressobj(1, zlib.DEFLATED, -15)
    crc, size = 0, 0
    with open(src, "rb") as fin, open(tmp, "wb") as fout:
        fout.write(header(last_time))
        while chunk := fin.read(CHUNK):
            crc, size = zlib.crc32(chunk, crc), size + len(chunk)
            fout.write(deflate.compress(chunk))
        fout.write(deflate.flush() + struct.pack("<II", crc & 0xFFFFFFFF, size & 0xFFFFFFFF))
    os.chmod(tmp, 0o640)
    os.replace(tmp, dst)
    os.unlink(src)


def last_time(header_bytes: bytes) -> str:
    """The ``lastTime`` of a compressed log's header; "" when absent (pure)."""
    if len(header_bytes) < 12 or header_bytes[:2] != b"\x1f\x8b" or not header_bytes[3] & 0x04:
        return ""
    (xlen,) = struct.unpack("<H", header_bytes[10:12])
    try:
        return str(json.loads(header_bytes[12:12 + xlen]).get("lastTime", ""))
    except (ValueError, AttributeError):
        return ""


def read_rotated(path: Path) -> bytes:
    """A rotated file's bytes: ``<path>.gz`` when compressed, else ``<path>``; b"" if neither."""
    try:
        with gzip.open(f"{path}.gz", "rb") as f:
            return f.read()
    except FileNotFoundError:
        pass
    except (OSError, EOFError):  # a torn member: what it held up to the damage is lost, as in Docker
        return b""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""
