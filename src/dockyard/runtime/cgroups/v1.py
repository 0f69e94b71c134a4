"""cgroup v1 (and hybrid hosts): one directory per controller hierarchy.

Each hierarchy mounted under the cgroupfs root (``memory``, ``cpu,cpuacct``,
``name=systemd`` as ``systemd``, ...) gets the container's directory.
``cpuset`` refuses tasks while ``cpuset.cpus``/``cpuset.mems`` are empty, so
every new level copies them from its parent (what runc does).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from dockyard.errors import RuntimeFailure
from dockyard.oci.runtime import Resources
from dockyard.runtime.cgroups import freezer, limits
from dockyard.runtime.cgroups.base import RmdirFn, kill_all, read_pids, remove_dirs, write


class CgroupV1:
    version = "v1"

    def __init__(self, dirs: dict[str, Path], rmdir: RmdirFn = os.rmdir) -> None:
        """``dirs`` maps a hierarchy name ("memory", "cpu,cpuacct") to the container's directory."""
        self.dirs = dict(dirs)
        self._rmdir = rmdir

    def _dir_for(self, controller: str) -> Path | None:
        for name, d in self.dirs.items():
            if controller in name.split(","):
                return d
        return None

    def create(self) -> None:
        for name, d in self.dirs.items():
            if "cpuset" in name.split(","):
                _make_cpuset_dirs(d)
            else:
                d.mkdir(parents=True, exist_ok=True)

    def apply(self, resources: Resources) -> None:
        mem = self._dir_for("memory")
        current = None
        if mem is not None and resources.memory_swap:
            try:
                current = int((mem / "memory.limit_in_bytes").read_text())
            except (OSError, ValueError):
                pass
        for controller, name, value in limits.v1_writes(resources, current):
            d = self._dir_for(controller)
            if d is not None:
                write(d / name, value)

    def oom_kills(self) -> int:
        d = self._dir_for("memory")
        return 0 if d is None else limits.oom_kills(d, "v1")

    def add_process(self, pid: int) -> None:
        for d in self.dirs.values():
            write(d / "cgroup.procs", str(pid))

    def pids(self) -> list[int]:
        return read_pids(self.dirs.values())

    def kill(self, sig: int = signal.SIGKILL) -> None:
        kill_all(self.dirs.values(), sig)

    def freeze(self) -> None:
        d = self._dir_for("freezer")
        if d is None:
            raise RuntimeFailure("the freezer cgroup controller is not mounted", step="freezer")
        freezer.freeze_v1(d)

    def thaw(self) -> None:
        d = self._dir_for("freezer")
        if d is not None:
            freezer.thaw_v1(d)

    def frozen(self) -> bool:
        d = self._dir_for("freezer")
        return d is not None and freezer.frozen_v1(d)

    def destroy(self) -> None:
        remove_dirs(self.dirs.values(), self._rmdir)

    def to_json(self) -> dict[str, object]:
        return {"version": self.version, "dirs": {k: str(v) for k, v in self.dirs.items()}}


def _make_cpuset_dirs(leaf: Path) -> None:
    """mkdir -p ``leaf``, filling empty cpuset.cpus/mems from the parent at each level."""
    missing: list[Path] = []
    d = leaf
    while not d.exists():
        missing.append(d)
        d = d.parent
    for level in reversed(missing):
        level.mkdir()
    chain = []  # levels below the nearest populated ancestor, leaf first
    d = leaf
    while not _populated(d) and d != d.parent:
        chain.append(d)
        d = d.parent
    for level in reversed(chain):
        for name in ("cpuset.cpus", "cpuset.mems"):
            value = (level.parent / name).read_text().strip()
            write(level / name, value)


def _populated(d: Path) -> bool:
    try:
        return bool((d / "cpuset.cpus").read_text().strip()) and bool((d / "cpuset.mems").read_text().strip())
    except FileNotFoundError:
        return False
