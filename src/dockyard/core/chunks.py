"""``ChunkReader``: a file-like view of an iterator of byte chunks.

Layer writers and tar producers yield chunks; tarfile's stream mode and the
content store read files. This adapter joins them without buffering more
than one read's worth.
"""

from __future__ import annotations

import io
from typing import Iterable


class ChunkReader(io.RawIOBase):
    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._it = iter(chunks)
        self._buf = b""

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:  # type: ignore[override]
        while n is None or n < 0 or len(self._buf) < n:
            try:
                self._buf += next(self._it)
            except StopIteration:
                break
        if n is None or n < 0:
            out, self._buf = self._buf, b""
        else:
            out, self._buf = self._buf[:n], self._buf[n:]
        return out
