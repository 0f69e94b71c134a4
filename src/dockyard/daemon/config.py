"""DaemonConfig: every path and knob the daemon runs with (frozen)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from dockyard.errors import InvalidArgument

DEFAULT_DATA_ROOT = Path("/var/lib/dockyard")
DEFAULT_EXEC_ROOT = Path("/run/dockyard")


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    data_root: Path = DEFAULT_DATA_ROOT  # persistent: content, snapshots, state.db, containers
    exec_root: Path = DEFAULT_EXEC_ROOT  # volatile (tmpfs): socket, pid file, bundles, shim state
    socket_path: Path = DEFAULT_EXEC_ROOT / "dockyard.sock"
    cgroup_parent: str = "dockyard"
    debug: bool = False

    @property
    def pid_file(self) -> Path:
        return self.exec_root / "dockyardd.pid"

    @property
    def bundles_root(self) -> Path:
        return self.exec_root / "containers"

    @property
    def runtime_root(self) -> Path:
        return self.exec_root / "runtime"

    @property
    def containers_root(self) -> Path:
        return self.data_root / "containers"


def parse_host(host: str) -> Path:
    """``unix:///path`` (or a bare path) -> the socket path. TCP comes later."""
    if host.startswith("unix://"):
        path = host[len("unix://"):]
    elif host.startswith("/"):
        path = host
    else:
        raise InvalidArgument(f"unsupported host {host!r}: only unix:// sockets are supported")
    if not path.startswith("/"):
        raise InvalidArgument(f"invalid host {host!r}: the socket path must be absolute")
    return Path(path)


def from_args(argv: list[str] | None = None) -> DaemonConfig:
    p = argparse.ArgumentParser(prog="dockyardd", description="The Dockyard container engine daemon")
    p.add_argument("-H", "--host", default=None, help="socket to listen on (unix:///run/dockyard/dockyard.sock)")
    p.add_argument("--data-root", default=str(DEFAULT_DATA_ROOT), help="root of persistent state")
    p.add_argument("--exec-root", default=str(DEFAULT_EXEC_ROOT), help="root of volatile state")
    p.add_argument("--cgroup-parent", default="dockyard", help="cgroup parent of containers")
    p.add_argument("-D", "--debug", action="store_true", help="debug logging")
    a = p.parse_args(argv)
    exec_root = Path(a.exec_root)
    socket_path = parse_host(a.host) if a.host else exec_root / "dockyard.sock"
    cgroup_parent = a.cgroup_parent.strip("/")
    if not cgroup_parent or ".." in cgroup_parent.split("/"):
        raise InvalidArgument(f"invalid --cgroup-parent {a.cgroup_parent!r}")
    return DaemonConfig(data_root=Path(a.data_root), exec_root=exec_root, socket_path=socket_path,
                        cgroup_parent=cgroup_parent, debug=a.debug)
