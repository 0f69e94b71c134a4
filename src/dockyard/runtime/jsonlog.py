"""Docker's json-file log format, as a pure encoder.

One JSON object per line, keys in Docker's order::

    {"log":"hello\\n","stream":"stdout","time":"2026-11-28T08:00:00.123456789Z"}

Output is split at newlines; a line longer than ``MAX_LINE`` is emitted in
pieces without the newline (Docker's 16 KiB partial messages), and a trailing
partial line is flushed as its own entry when the stream closes.  Strings are
escaped the way Go's encoding/json does (``<``, ``>``, ``&``, U+2028/9
escaped; invalid UTF-8 becomes U+FFFD) so tools that read Docker logs read ours.
"""

from __future__ import annotations

import json
import time
from typing import Callable

MAX_LINE = 16 * 1024
STREAM_NAMES = {1: "stdout", 2: "stderr"}

_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def rfc3339nano(ns: int) -> str:
    """Go's time.RFC3339Nano in UTC: trailing zeros of the fraction are dropped."""
    secs, frac = divmod(ns, 1_000_000_000)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    fraction = f"{frac:09d}".rstrip("0")
    return f"{base}.{fraction}Z" if fraction else f"{base}Z"


def _go_json_string(s: str) -> str:
    out = json.dumps(s, ensure_ascii=False)
    for raw, esc in _GO_ESCAPES.items():
        if raw in out:
            out = out.replace(raw, esc)
    return out


def encode_entry(data: bytes, stream: int, ns: int) -> bytes:
    """One json-file line (with its trailing newline) for a piece of output."""
    text = data.decode("utf-8", errors="replace")
    line = '{"log":%s,"stream":"%s","time":"%s"}\n' % (_go_json_string(text), STREAM_NAMES[stream], rfc3339nano(ns))
    return line.encode()


class LineSplitter:
    """Buffers one stream's output and yields whole lines (newline kept)."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self._buf = bytearray()
        self._max = max_line

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        out: list[bytes] = []
        while True:
            nl = self._buf.find(b"\n")
            if nl < 0 or nl >= self._max:
                if len(self._buf) >= self._max:
                    out.append(bytes(self._buf[: self._max]))
                    del self._buf[: self._max]
                    continue
                break
            out.append(bytes(self._buf[: nl + 1]))
            del self._buf[: nl + 1]
        return out

    def flush(self) -> list[bytes]:
        """The trailing partial line, if any (at EOF)."""
        if not self._buf:
            return []
        rest = bytes(self._buf)
        self._buf.clear()
        return [rest]


class JsonLogEncoder:
    """Both streams of one container -> json-file bytes to append to the log."""

    def __init__(self, clock_ns: Callable[[], int] = time.time_ns, max_line: int = MAX_LINE) -> None:
        self._clock = clock_ns
        self._split = {1: LineSplitter(max_line), 2: LineSplitter(max_line)}

    def feed(self, stream: int, data: bytes) -> bytes:
        now = self._clock()
        return b"".join(encode_entry(line, stream, now) for line in self._split[stream].feed(data))

    def close(self, stream: int) -> bytes:
        now = self._clock()
        return b"".join(encode_entry(line, stream, now) for line in self._split[stream].flush())
