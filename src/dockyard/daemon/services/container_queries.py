"""Read-only container queries: list (with filters), inspect, counts, sizes.

Split from ``containers.py`` so the lifecycle module stays about state
changes.  Functions take the collaborators they read from; nothing here
changes state.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from dockyard.core.containers import ContainerRecord, ContainerStore, Status
from dockyard.daemon import containerfilters
from dockyard.errors import NotFound
from dockyard.wire.models import containers as models

RUNNING = (Status.RUNNING, Status.PAUSED, Status.RESTARTING)


def dir_size(path: Path) -> int:
    """Bytes under ``path`` (files counted once; symlinks not followed)."""
    total, seen = 0, set()
    for root, dirs, files in os.walk(path):
        for name in files:
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_size
    return total


def read_graph(rootfs_json: Path, merged: Path) -> dict[str, str]:
    """GraphDriver.Data from the saved overlay mount options."""
    graph: dict[str, str] = {}
    try:
        mounts = json.loads(rootfs_json.read_text())
    except (OSError, ValueError):
        return graph
    for opt in mounts[0].get("options", []) if mounts else []:
        key, _, value = opt.partition("=")
        name = {"lowerdir": "LowerDir", "upperdir": "UpperDir", "workdir": "WorkDir"}.get(key)
        if name:
            graph[name] = value
    graph["MergedDir"] = str(merged)
    return graph


def list_json(store: ContainerStore, *, all: bool, limit: int | None,
              filters: Mapping[str, Sequence[str]] | None, resolve_image: Callable[[str], str | None],
              size_of: Callable[[ContainerRecord], tuple[int, int]] | None = None) -> list[dict[str, Any]]:
    """``GET /containers/json``: newest first, as Docker."""
    f = containerfilters.prepare(filters or {}, store.resolve, resolve_image)
    recs = sorted(store.list(), key=lambda r: r.config.created, reverse=True)
    show_all = all or f.all or (limit is not None and limit > 0)
    out = [r for r in recs if (show_all or r.state.status in RUNNING) and containerfilters.include(r, f)]
    if limit is not None and limit > 0:
        out = out[:limit]
    now = time.time()
    result = []
    for r in out:
        s = models.summary(r, now)
        if size_of is not None:
            rw, rootfs = size_of(r)
            s["SizeRw"], s["SizeRootFs"] = rw, rootfs
        result.append(s)
    return result


def counts(store: ContainerStore) -> dict[str, int]:
    c = {"running": 0, "paused": 0, "stopped": 0}
    for r in store.list():
        if r.state.status is Status.PAUSED:
            c["paused"] += 1
        elif r.state.status in (Status.RUNNING, Status.RESTARTING):
            c["running"] += 1
        else:
            c["stopped"] += 1
    return c


def resolve_image_id(images: Any) -> Callable[[str], str | None]:
    def resolve(ref: str) -> str | None:
        try:
            return str(images.resolve(ref).id)
        except NotFound:
            return None
        except Exception:  # noqa: BLE001 - an unparsable ancestor simply matches nothing
            return None

    return resolve
