"""Cgroup managers: the ``CgroupManager`` protocol, v1/v2 implementations and host detection.

Lifecycle, as the shim and ShimRuntime drive it::

    cg = open_cgroup("/dockyard/<id>")   # pure: computes directories only
    cg.create(); cg.apply(spec.linux.resources)
    cg.add_process(pid)                  # the init joins before it unshares
    ...
    cg.kill(); cg.destroy()              # delete: nothing left behind
    cgroup_from_json(cg.to_json())       # same manager after a daemon restart

The cgroupfs root is injectable so unit tests run on a fake tree in a tmp dir.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any, Protocol

from dockyard.oci.runtime import Resources
from dockyard.runtime.cgroups.base import RmdirFn
from dockyard.runtime.cgroups.v1 import CgroupV1
from dockyard.runtime.cgroups.v2 import CgroupV2, shares_to_weight

DEFAULT_ROOT = Path("/sys/fs/cgroup")


class CgroupManager(Protocol):
    version: str

    @property
    def dirs(self) -> Any: ...

    def create(self) -> None: ...

    def apply(self, resources: Resources) -> None: ...

    def add_process(self, pid: int) -> None: ...

    def pids(self) -> list[int]: ...

    def kill(self, sig: int = signal.SIGKILL) -> None: ...

    def freeze(self) -> None:
        """Stop every task (pause); returns once the cgroup is frozen."""
        ...

    def thaw(self) -> None: ...

    def frozen(self) -> bool: ...

    def oom_kills(self) -> int:
        """Processes the OOM killer took in this cgroup so far."""
        ...

    def destroy(self) -> None: ...

    def to_json(self) -> dict[str, object]: ...


def detect(root: Path = DEFAULT_ROOT) -> str:
    """"v2" (unified only), "hybrid" (v1 controllers + cgroup2 at unified/) or "v1"."""
    if (root / "cgroup.controllers").exists():
        return "v2"
    if (root / "unified" / "cgroup.controllers").exists():
        return "hybrid"
    return "v1"


def own_v1_paths(proc_cgroup: str) -> dict[str, str]:
    """/proc/self/cgroup text -> {hierarchy dir name: our path in it}."""
    out: dict[str, str] = {}
    for line in proc_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3 or not parts[1]:
            continue
        for ctrl in parts[1].split(","):
            out[ctrl.removeprefix("name=")] = parts[2]
        out[parts[1].removeprefix("name=")] = parts[2]
    return out


def v1_hierarchies(root: Path) -> list[str]:
    """Hierarchy directories under a v1 root; symlink aliases (cpu -> cpu,cpuacct) and unified/ skipped."""
    return sorted(e.name for e in os.scandir(root)
                  if e.is_dir(follow_symlinks=False) and e.name != "unified")


def open_cgroup(cgroups_path: str, root: Path = DEFAULT_ROOT, *, nest_under_own: bool = True,
                proc_cgroup: str | None = None, rmdir: RmdirFn = os.rmdir) -> CgroupManager:
    """The manager for ``cgroups_path`` on this host (no side effect).

    v1/hybrid: ``cgroups_path`` goes under each hierarchy; with
    ``nest_under_own`` it is taken relative to the caller's own cgroup in that
    hierarchy (as a cgroup namespace would show it), so containers stay inside
    whatever limits the daemon itself runs under.  v2: directly under
    ``root``, because a non-root cgroup with processes may not delegate
    controllers (the "no internal processes" rule).
    """
    rel = cgroups_path.strip("/")
    if detect(root) == "v2":
        return CgroupV2(root, root / rel, rmdir=rmdir)
    own: dict[str, str] = {}
    if nest_under_own:
        text = proc_cgroup if proc_cgroup is not None else Path("/proc/self/cgroup").read_text()
        own = own_v1_paths(text)
    dirs = {}
    for name in v1_hierarchies(root):
        base = own.get(name, "/").strip("/")
        dirs[name] = root / name / base / rel if base else root / name / rel
    return CgroupV1(dirs, rmdir=rmdir)


def cgroup_from_json(obj: dict[str, Any], rmdir: RmdirFn = os.rmdir) -> CgroupManager:
    if obj["version"] == "v2":
        return CgroupV2(Path(obj["root"]), Path(obj["path"]), rmdir=rmdir)
    return CgroupV1({k: Path(v) for k, v in obj["dirs"].items()}, rmdir=rmdir)


__all__ = ["CgroupManager", "CgroupV1", "CgroupV2", "cgroup_from_json", "detect", "open_cgroup",
           "own_v1_paths", "shares_to_weight", "v1_hierarchies"]
