"""The container's log file as the shim writes it: json-file with Docker's rotation.

``max_size`` 0 means never rotate.  On rotation ``<log>`` becomes
``<log>.1``, ``.1`` becomes ``.2`` …, the oldest beyond ``max_file - 1`` is
dropped (Docker's json-file naming), and writing continues in a new
``<log>``.  Entries are never split across files.  Driver ``none``: nothing
is written.  The settings travel in the OCI spec's annotations
(``ANNOTATIONS``), so the spawn protocol does not change.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

DRIVER, MAX_SIZE, MAX_FILE = "dockyard.log.driver", "dockyard.log.max-size", "dockyard.log.max-file"
ANNOTATIONS = (DRIVER, MAX_SIZE, MAX_FILE)


def rotated_paths(path: Path, max_file: int) -> list[Path]:
    """Oldest first, the live file last (what ``logs`` reads)."""
    return [Path(f"{path}.{n}") for n in range(max_file - 1, 0, -1)] + [path]


class LogWriter:
    def __init__(self, path: Path, *, driver: str = "json-file", max_size: int = 0, max_file: int = 1) -> None:
        self.path = path
        self.enabled = driver != "none"
        self.max_size = max_size
        self.max_file = max(1, max_file)
        self.fd = -1
        self.size = 0
        if self.enabled:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._open()

    @classmethod
    def from_annotations(cls, path: Path, annotations: Mapping[str, str]) -> "LogWriter":
        return cls(path, driver=annotations.get(DRIVER, "json-file"),
                   max_size=int(annotations.get(MAX_SIZE, "0") or 0),
                   max_file=int(annotations.get(MAX_FILE, "1") or 1))

    def _open(self) -> None:
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o640)
        self.size = os.fstat(self.fd).st_size

    def write(self, data: bytes) -> None:
        """``data``: whole json-file entries (one or more lines)."""
        if not self.enabled or not data:
            return
        if not self.max_size or self.size + len(data) <= self.max_size:
            self._write(data)
            return
        for entry in data.splitlines(keepends=True):  # rotate between entries, never inside one
            if self.size and self.size + len(entry) > self.max_size:
                self._rotate()
            self._write(entry)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]
        self.size += len(data)

    def _rotate(self) -> None:
        os.close(self.fd)
        if self.max_file > 1:
            for n in range(self.max_file - 1, 1, -1):
                older = Path(f"{self.path}.{n - 1}")
                if older.exists():
                    os.replace(older, f"{self.path}.{n}")
            os.replace(self.path, f"{self.path}.1")
        else:
            os.truncate(self.path, 0)
        self._open()

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
