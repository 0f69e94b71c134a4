"""Layered filesystems as snapshots (containerd ``core/snapshots``).

Glossary: ``key`` names an *active* (writable) or *view* snapshot; ``name``
names a *committed* (read-only) one; ``parent`` is always a committed name.

Unpacking an image and running a container on it::

    mounts = sn.prepare("extract-1", parent="sha256:<chain id of layer 0>")
    apply_layer(tar, upper_dir(mounts))       # write the layer into the new upper dir
    sn.commit("sha256:<chain id of layer 1>", "extract-1")
    mounts = sn.prepare("<container id>", parent="sha256:<chain id of layer 1>")
    ...                                       # the runtime mounts ``mounts`` as the rootfs
    sn.remove("<container id>")

A snapshotter never mounts anything: it returns ``Mount`` values.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Iterator, Mapping, Protocol, Sequence

from dockyard.core.mount import Mount


class SnapshotKind(str, enum.Enum):
    VIEW = "view"
    ACTIVE = "active"
    COMMITTED = "committed"


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    kind: SnapshotKind
    name: str  # key for active/view snapshots, name for committed ones
    parent: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    created: float = 0.0
    updated: float = 0.0


@dataclass(frozen=True, slots=True)
class Usage:
    size: int = 0  # bytes used by this snapshot's own directory
    inodes: int = 0


class Snapshotter(Protocol):
    def stat(self, key: str) -> SnapshotInfo:
        """NotFound if absent."""
        ...

    def prepare(self, key: str, parent: str | None = None, labels: Mapping[str, str] | None = None) -> list[Mount]:
        """Create an active snapshot on ``parent``; AlreadyExists if ``key`` is taken."""
        ...

    def view(self, key: str, parent: str | None = None, labels: Mapping[str, str] | None = None) -> list[Mount]:
        """Create a read-only view of ``parent``."""
        ...

    def mounts(self, key: str) -> list[Mount]:
        """Mounts of an existing snapshot (committed ones as read-only)."""
        ...

    def commit(self, name: str, key: str, labels: Mapping[str, str] | None = None) -> None:
        """Turn active ``key`` into committed ``name``; AlreadyExists if ``name`` is taken."""
        ...

    def remove(self, key: str) -> None:
        """NotFound if absent; Conflict if it has children."""
        ...

    def usage(self, key: str) -> Usage: ...

    def walk(self) -> Iterator[SnapshotInfo]: ...


def upper_dir(mounts: Sequence[Mount]) -> str:
    """The writable directory of an active snapshot's mounts (where a layer is applied)."""
    if len(mounts) != 1:
        raise ValueError("expected exactly one mount")
    m = mounts[0]
    if m.type == "bind":
        return m.source
    for opt in m.options:
        if opt.startswith("upperdir="):
            return opt[len("upperdir=") :]
    raise ValueError("mount has no writable directory")


def layer_dirs(mounts: Sequence[Mount]) -> list[str]:
    """All directories of a snapshot, top first: upper dir (if any), then lower dirs."""
    if len(mounts) != 1:
        raise ValueError("expected exactly one mount")
    m = mounts[0]
    if m.type == "bind":
        return [m.source]
    dirs: list[str] = []
    lowers: list[str] = []
    for opt in m.options:
        if opt.startswith("upperdir="):
            dirs.append(opt[len("upperdir=") :])
        elif opt.startswith("lowerdir="):
            lowers = opt[len("lowerdir=") :].split(":")
    return dirs + lowers
