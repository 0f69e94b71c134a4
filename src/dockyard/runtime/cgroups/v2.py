"""cgroup v2 (unified hierarchy): one directory; controllers enabled top-down.

A controller is usable in a cgroup only if every ancestor lists it in
``cgroup.subtree_control``, so ``create`` walks from the cgroupfs root to the
parent writing ``+memory +pids +cpu`` (those the level offers).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from dockyard.oci.runtime import Resources
from dockyard.runtime.cgroups import freezer, limits
from dockyard.runtime.cgroups.base import RmdirFn, kill_all, read_pids, remove_dirs, write

WANTED = ("cpu", "cpuset", "io", "memory", "pids")


shares_to_weight = limits.shares_to_weight


class CgroupV2:
    version = "v2"

    def __init__(self, root: Path, path: Path, rmdir: RmdirFn = os.rmdir) -> None:
        """``root`` is the cgroup2 mount; ``path`` the container's directory below it."""
        self.root = root
        self.path = path
        self._rmdir = rmdir

    @property
    def dirs(self) -> dict[str, Path]:
        return {"": self.path}

    def create(self) -> None:
        rel = self.path.relative_to(self.root)
        level = self.root
        for part in rel.parts:
            offered = set((level / "cgroup.controllers").read_text().split())
            enable = " ".join(f"+{c}" for c in WANTED if c in offered)
            if enable:
                write(level / "cgroup.subtree_control", enable)
            level = level / part
            level.mkdir(exist_ok=True)

    def apply(self, resources: Resources) -> None:
        for _controller, name, value in limits.v2_writes(resources):
            write(self.path / name, value)

    def oom_kills(self) -> int:
        return limits.oom_kills(self.path, "v2")

    def add_process(self, pid: int) -> None:
        write(self.path / "cgroup.procs", str(pid))

    def pids(self) -> list[int]:
        return read_pids([self.path])

    def kill(self, sig: int = signal.SIGKILL) -> None:
        # cgroup.kill (5.14+) kills atomically, forks included.
        if sig == signal.SIGKILL and (self.path / "cgroup.kill").exists():
            write(self.path / "cgroup.kill", "1")
        kill_all([self.path], sig)

    def freeze(self) -> None:
        freezer.freeze_v2(self.path)

    def thaw(self) -> None:
        freezer.thaw_v2(self.path)

    def frozen(self) -> bool:
        return freezer.frozen_v2(self.path)

    def destroy(self) -> None:
        remove_dirs([self.path], self._rmdir)

    def to_json(self) -> dict[str, object]:
        return {"version": self.version, "root": str(self.root), "path": str(self.path)}
