"""Reading attach/logs output: stdcopy demultiplexing or raw TTY bytes."""

from __future__ import annotations

import os

from dockyard.wire import stdcopy

TYPE_CHECKING = False
if TYPE_CHECKING:  # collections.abc imports all of collections: annotations only
    import _socket
    from collections.abc import Iterable, Iterator


def socket_chunks(sock: _socket.socket, buffered: bytes = b"") -> Iterator[bytes]:
    """Bytes from a hijacked socket until the daemon closes it."""
    if buffered:
        yield buffered
    while True:
        try:
            data = sock.recv(65536)
        except OSError:
            return
        if not data:
            return
        yield data


def demux(chunks: Iterable[bytes], *, tty: bool) -> Iterator[tuple[int, bytes]]:
    """``(stream, data)`` pairs: stdcopy frames, or everything on stdout for a TTY."""
    if tty:
        for chunk in chunks:
            yield stdcopy.STDOUT, chunk
        return
    decoder = stdcopy.FrameDecoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)
    decoder.close()


def copy_to_fds(pairs: Iterable[tuple[int, bytes]], stdout_fd: int = 1, stderr_fd: int = 2) -> None:
    """Write each pair straight to the file descriptor (no buffering: output is live)."""
    for stream, data in pairs:
        fd = stderr_fd if stream in (stdcopy.STDERR, stdcopy.SYSTEMERR) else stdout_fd
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
