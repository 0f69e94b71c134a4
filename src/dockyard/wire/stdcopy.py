"""Docker's stdout/stderr multiplexing ("stdcopy") frames, sans-I/O.

A non-TTY attach or logs stream is a sequence of frames::

    [stream: u8][0, 0, 0][length: u32 big-endian][payload: length bytes]

``stream`` is 0 (stdin), 1 (stdout), 2 (stderr) or 3 (systemerr: the daemon
reports an error in-band).  See moby ``pkg/stdcopy/stdcopy.go``.
"""

from __future__ import annotations

import struct

from dockyard.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:  # collections.abc imports all of collections; the CLI imports this module
    from collections.abc import Iterator

STDIN = 0
STDOUT = 1
STDERR = 2
SYSTEMERR = 3

HEADER_SIZE = 8
_HEADER = struct.Struct(">BxxxL")
# Frames bigger than this are split: keeps memory bounded on both sides.
MAX_FRAME = 32 * 1024 * 1024


def encode(stream: int, data: bytes) -> bytes:
    """One or more frames carrying ``data`` on ``stream`` (empty data → b"")."""
    if stream not in (STDIN, STDOUT, STDERR, SYSTEMERR):
        raise InvalidArgument(f"invalid stdcopy stream {stream}")
    if not data:
        return b""
    if len(data) <= MAX_FRAME:
        return _HEADER.pack(stream, len(data)) + data
    parts = []
    for i in range(0, len(data), MAX_FRAME):
        chunk = data[i : i + MAX_FRAME]
        parts.append(_HEADER.pack(stream, len(chunk)) + chunk)
    return b"".join(parts)


class FrameDecoder:
    """Incremental decoder: ``feed`` bytes as they arrive, get whole frames.

    Example::

        dec = FrameDecoder()
        for stream, data in dec.feed(sock.recv(65536)): ...
        dec.close()   # raises if the input stopped mid-frame
    """

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> Iterator[tuple[int, bytes]]:
        self._buf += data
        while len(self._buf) >= HEADER_SIZE:
            stream, length = _HEADER.unpack_from(self._buf)
            if stream not in (STDIN, STDOUT, STDERR, SYSTEMERR):
                raise InvalidArgument(f"unrecognized input header: {stream}")
            end = HEADER_SIZE + length
            if len(self._buf) < end:
                return
            payload = bytes(self._buf[HEADER_SIZE:end])
            del self._buf[:end]
            yield stream, payload

    @property
    def pending(self) -> int:
        """Bytes buffered that do not yet form a whole frame."""
        return len(self._buf)

    def close(self) -> None:
        if self._buf:
            raise InvalidArgument(f"stdcopy stream truncated: {len(self._buf)} bytes left over")


def decode(data: bytes) -> list[tuple[int, bytes]]:
    """Decode a complete buffer of frames (tests and small bodies)."""
    dec = FrameDecoder()
    frames = list(dec.feed(data))
    dec.close()
    return frames
