"""Reading Docker json-file and local logs: replay, tail, since/until, follow.

The shim writes one JSON object per line
(``{"log": "...", "stream": "stdout", "time": "<RFC 3339 ns>"}``). Parsing is
pure (``parse_line``, ``select``); ``read_log`` does the file I/O.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from dockyard.core.runtime import STDERR, STDOUT
from dockyard.core.timefmt import parse_rfc3339
from dockyard.runtime.jsonlog import rfc3339nano
from dockyard.runtime.locallog import decode_frames
from dockyard.runtime.loggzip import read_rotated
from dockyard.runtime.logrotate import is_local


@dataclass(frozen=True, slots=True)
class LogEntry:
    stream: int
    data: bytes
    time: str

    @property
    def timestamp(self) -> float:
        return parse_rfc3339(self.time)


def parse_line(line: bytes) -> LogEntry | None:
    """One json-file line; None for a torn or foreign line (never raises)."""
    try:
        obj = json.loads(line)
        stream = STDERR if obj.get("stream") == "stderr" else STDOUT
        return LogEntry(stream, str(obj["log"]).encode("utf-8", "surrogateescape"), str(obj.get("time", "")))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def decode_json(data: bytes) -> tuple[list[LogEntry], bytes]:
    """The whole json-file lines of ``data`` and the unfinished rest."""
    complete, _, partial = data.rpartition(b"\n")
    return [e for e in (parse_line(line) for line in complete.split(b"\n") if line) if e], partial


def decode_local(data: bytes) -> tuple[list[LogEntry], bytes]:
    """The whole frames of a ``local`` driver file (newline back on each line's last piece, as moby's
    reader) and the unfinished rest."""
    frames, rest = decode_frames(data)
    return [LogEntry(STDERR if f.source == "stderr" else STDOUT, f.line + b"\n" if f.ends_line else f.line,
                     rfc3339nano(f.time_nano)) for f in frames], rest


def select(entries: Iterable[LogEntry], *, stdout: bool, stderr: bool, since: float = 0,
           until: float = 0, tail: int | None = None) -> list[LogEntry]:
    """Filter by stream and time window, then keep the last ``tail`` entries."""
    out = [
        e for e in entries
        if ((e.stream == STDOUT and stdout) or (e.stream == STDERR and stderr))
        and (not since or e.timestamp > since)
        and (not until or e.timestamp <= until)
    ]
    if tail is not None:
        out = out[-tail:] if tail > 0 else []
    return out


def format_entry(e: LogEntry, timestamps: bool) -> bytes:
    return (e.time.encode() + b" " + e.data) if timestamps else e.data


def read_log(path: Path, *, stdout: bool, stderr: bool, since: float = 0, until: float = 0,
             tail: int | None = None, timestamps: bool = False, follow: bool = False,
             is_done: Callable[[], bool] = lambda: True, poll: float = 0.02,
             older: Sequence[Path] = ()) -> Iterator[tuple[int, bytes]]:
    """Yield (stream, bytes) from the log; with ``follow``, keep reading until
    ``is_done()`` is true and the file has been drained. ``older``: rotated
    files (oldest first) read before ``path``; a rotation while following is
    noticed by the inode of ``path`` changing, and the new file is read on."""
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return
    try:  # not ``with f``: a rotation swaps ``f`` for the new file
        decode = decode_local if is_local(path) else decode_json
        entries, buf = decode(b"".join(read_rotated(p) for p in older) + f.read())
        for e in select(entries, stdout=stdout, stderr=stderr, since=since, until=until, tail=tail):
            yield e.stream, format_entry(e, timestamps)
        if not follow:
            return
        while True:
            done = is_done()  # sample before reading, so the last writes are never missed
            chunk = f.read()
            if chunk:
                entries, buf = decode(buf + chunk)
                for e in entries:
                    if select([e], stdout=stdout, stderr=stderr, until=until):
                        yield e.stream, format_entry(e, timestamps)
                continue
            if _rotated(path, f):  # the shim renamed our file to .1: carry on in the new one
                try:
                    f.close()
                    f = open(path, "rb")
                except FileNotFoundError:
                    return
                continue
            if done:
                return
            time.sleep(poll)
    finally:
        f.close()


def _rotated(path: Path, f: Any) -> bool:
    try:
        return os.stat(path).st_ino != os.fstat(f.fileno()).st_ino
    except FileNotFoundError:
        return False
