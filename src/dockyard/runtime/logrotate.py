"""The container's log file as the shim writes it: json-file with Docker's rotation.

``max_size`` 0 means never rotate.  On rotation ``<log>`` becomes
``<log>.1``, ``.1`` becomes ``.2`` …, the oldest beyond ``max_file - 1`` is
dropped (Docker's json-file naming), and writing continues in a new
``<log>``.  Entries are never split across files.  Driver ``none``: nothing
is written.  With ``compress`` each rotated file is gzip'ed
(``<log>.1.gz``, ``.2.gz`` …, ``runtime/loggzip.py``), as Docker's are.  The settings travel in the OCI spec's annotations
(``ANNOTATIONS``), so the spawn protocol does not change.  ``encoder()`` gives the shim the
encoder of the driver's own format (json-file lines, or ``local`` frames), so what the shim
hands ``write`` is stored as is.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Mapping, Protocol


class LogEncoder(Protocol):
    """Output of both streams -> bytes in the driver's format (jsonlog.JsonLogEncoder,
    locallog.LocalLogEncoder)."""

    def feed(self, stream: int, data: bytes) -> bytes: ...

    def close(self, stream: int) -> bytes: ...

DRIVER, MAX_SIZE, MAX_FILE = "dockyard.log.driver", "dockyard.log.max-size", "dockyard.log.max-file"
COMPRESS = "dockyard.log.compress"
ANNOTATIONS = (DRIVER, MAX_SIZE, MAX_FILE, COMPRESS)


LOCAL_DIR, LOCAL_FILE = "local-logs", "container.log"


def driver_path(json_path: Path, driver: str) -> Path:
    """Where a driver's live file is: ``<dir>/<id>-json.log``, or ``<dir>/local-logs/container.log``
    for ``local`` (Docker's places)."""
    return json_path.parent / LOCAL_DIR / LOCAL_FILE if driver == "local" else json_path


def is_local(path: Path) -> bool:
    return path.name.startswith(LOCAL_FILE) and path.parent.name == LOCAL_DIR


def rotated_paths(path: Path, max_file: int) -> list[Path]:
    """Oldest first, the live file last (what ``logs`` reads)."""
    return [Path(f"{path}.{n}") for n in range(max_file - 1, 0, -1)] + [path]


class LogWriter:
    def __init__(self, path: Path, *, driver: str = "json-file", max_size: int = 0, max_file: int = 1,
                 compress: bool = False) -> None:
        self.path = driver_path(path, driver)
        self.enabled = driver != "none"
        self.local = driver == "local"  # entries are Docker's protobuf frames, not json lines
        self.max_size = max_size
        self.max_file = max(1, max_file)
        self.compress = compress and self.max_file > 1
        self._last = b""  # the last entry written: its time goes into the gzip header
        self.fd = -1
        self.size = 0
        if self.enabled:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._open()

    @classmethod
    def from_annotations(cls, path: Path, annotations: Mapping[str, str]) -> "LogWriter":
        return cls(path, driver=annotations.get(DRIVER, "json-file"),
                   max_size=int(annotations.get(MAX_SIZE, "0") or 0),
                   max_file=int(annotations.get(MAX_FILE, "1") or 1),
                   compress=annotations.get(COMPRESS) == "true")

    def encoder(self) -> LogEncoder:
        """A new encoder whose output ``write`` takes (one per container: it holds partial lines)."""
        if self.local:  # imported only for it: json-file shims stay as small as before
            from dockyard.runtime.locallog import LocalLogEncoder

            return LocalLogEncoder()
        from dockyard.runtime.jsonlog import JsonLogEncoder

        return JsonLogEncoder()

    def _open(self) -> None:
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o640)
        self.size = os.fstat(self.fd).st_size

    def write(self, data: bytes) -> None:
        """``data``: whole entries from ``encoder()`` (json-file lines or local frames)."""
        if not self.enabled or not data:
            return
        if not self.max_size or self.size + len(data) <= self.max_size:
            self._write(data)
            if self.compress:
                self._last = data  # its last entry's time dates the next gzip (_last_time)
            return
        if self.local:
            from dockyard.runtime.locallog import split_frames

            entries = split_frames(data)
        else:
            entries = data.splitlines(keepends=True)
        for entry in entries:  # rotate between entries, never inside one
            if self.size and self.size + len(entry) > self.max_size:
                self._rotate()
            self._write(entry)
            self._last = entry

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]
        self.size += len(data)

    def _rotate(self) -> None:
        os.close(self.fd)
        if self.compress:
            for n in range(self.max_file - 1, 1, -1):
                older = Path(f"{self.path}.{n - 1}.gz")
                if older.exists():
                    os.replace(older, f"{self.path}.{n}.gz")
            os.replace(self.path, f"{self.path}.1")
            from dockyard.runtime.loggzip import compress_file  # only when rotating: keeps the shim small

            compress_file(Path(f"{self.path}.1"), Path(f"{self.path}.1.gz"), self._last_time())
        elif self.max_file > 1:
            for n in range(self.max_file - 1, 1, -1):
                older = Path(f"{self.path}.{n - 1}")
                if older.exists():
                    os.replace(older, f"{self.path}.{n}")
            os.replace(self.path, f"{self.path}.1")
        else:
            os.truncate(self.path, 0)
        self._open()

    def _last_time(self) -> str:
        if not self.local:
            return _entry_time(self._last)
        from dockyard.runtime.jsonlog import rfc3339nano
        from dockyard.runtime.locallog import decode_frames

        frames, _ = decode_frames(self._last)
        return rfc3339nano(frames[-1].time_nano) if frames else ""

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _entry_time(data: bytes) -> str:
    """The ``time`` of the last json-file entry in ``data`` ("" if none)."""
    line = data.rstrip(b"\n").rpartition(b"\n")[2]
    try:
        return str(json.loads(line).get("time", ""))
    except (ValueError, AttributeError):
        return ""
