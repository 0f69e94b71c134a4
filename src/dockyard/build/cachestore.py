"""The build cache on disk: one small JSON file per key under ``<data-root>/build/cache`` (survives restarts).

An entry holds the resulting state (config + layer blobs); it is only used
while its blobs still exist, so removing images can never make a cache hit
produce a broken image.  Writes are atomic (temp file + rename).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any


class FileCacheStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()

    def _path(self, key: str) -> Path:
        hexpart = key.split(":", 1)[-1]
        return self.root / hexpart[:2] / f"{hexpart}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            value = json.loads(self._path(key).read_text())
        except (OSError, ValueError):
            return None
        return value if isinstance(value, dict) else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{threading.get_ident()}")
        tmp.write_text(json.dumps(value, separators=(",", ":")))
        os.replace(tmp, path)

    def prune(self) -> tuple[list[str], int]:
        """Remove every entry: (keys removed, bytes of entry files)."""
        removed, size = [], 0
        with self._lock:
            if not self.root.exists():
                return [], 0
            for sub in self.root.iterdir():
                for f in sub.iterdir():
                    try:
                        size += f.stat().st_size
                        f.unlink()
                        removed.append("sha256:" + f.stem)
                    except OSError:
                        pass
                try:
                    sub.rmdir()
                except OSError:
                    pass
        return removed, size
