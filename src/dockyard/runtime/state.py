"""Per-container runtime state on disk, and exit-status mapping.

Layout of ``<state_root>/<id>/`` (the shim writes, ShimRuntime reads, so
``state()``/``wait()`` work after a daemon restart)::

    state.json   {"bundle", "log_path", "pid", "shim_pid", "cgroup_dirs": [...]}
                 written once init is waiting before exec
    started      empty marker: Start was accepted (status "running")
    exit.json    {"code", "signal", "finished_at_ns", "oom_killed"}: init is reaped
    shim.sock    the shim's unix socket (messages.py); gone once the shim exits
    shim.log     the shim's own diagnostics (tracebacks), never container output

All files are written to a temporary name and renamed, so readers never see
half a file.
"""

from __future__ import annotations

import json
import os
import signal as signal_mod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from dockyard.core.runtime import ExitStatus

STATE_FILE = "state.json"
EXIT_FILE = "exit.json"
STARTED_FILE = "started"
SOCKET_FILE = "shim.sock"
SHIM_LOG = "shim.log"


def exit_status_from_wait(status: int, finished_at_ns: int, oom_killed: bool = False) -> ExitStatus:
    """A waitpid(2) status -> Docker's exit code: the status, or 128+N after signal N."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        return ExitStatus(code=128 + sig, finished_at_ns=finished_at_ns, signal=sig, oom_killed=oom_killed)
    if os.WIFEXITED(status):
        return ExitStatus(code=os.WEXITSTATUS(status), finished_at_ns=finished_at_ns, oom_killed=oom_killed)
    raise ValueError(f"not a termination status: {status:#x}")


def signal_name(sig: int) -> str:
    try:
        return signal_mod.Signals(sig).name
    except ValueError:
        return str(sig)


@dataclass(frozen=True, slots=True)
class ShimRecord:
    """What the shim writes to state.json once init is waiting before exec."""

    bundle: str
    log_path: str
    pid: int
    shim_pid: int
    cgroup_dirs: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"bundle": self.bundle, "log_path": self.log_path, "pid": self.pid,
                "shim_pid": self.shim_pid, "cgroup_dirs": list(self.cgroup_dirs)}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> "ShimRecord":
        return cls(str(obj["bundle"]), str(obj["log_path"]), int(obj["pid"]), int(obj["shim_pid"]),
                   tuple(str(d) for d in obj.get("cgroup_dirs", ())))


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_record(state_dir: Path, record: ShimRecord) -> None:
    write_atomic(state_dir / STATE_FILE, json.dumps(record.to_json()).encode())


def read_record(state_dir: Path) -> ShimRecord | None:
    try:
        return ShimRecord.from_json(json.loads((state_dir / STATE_FILE).read_bytes()))
    except FileNotFoundError:
        return None


def write_exit(state_dir: Path, status: ExitStatus) -> None:
    obj = {"code": status.code, "signal": status.signal, "finished_at_ns": status.finished_at_ns,
           "oom_killed": status.oom_killed}
    write_atomic(state_dir / EXIT_FILE, json.dumps(obj).encode())


def read_exit(state_dir: Path) -> ExitStatus | None:
    try:
        obj = json.loads((state_dir / EXIT_FILE).read_bytes())
    except FileNotFoundError:
        return None
    return ExitStatus(code=int(obj["code"]), finished_at_ns=int(obj["finished_at_ns"]),
                      signal=int(obj.get("signal", 0)), oom_killed=bool(obj.get("oom_killed", False)))


def mark_started(state_dir: Path) -> None:
    write_atomic(state_dir / STARTED_FILE, b"")


def is_started(state_dir: Path) -> bool:
    return (state_dir / STARTED_FILE).exists()


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` exists (and is not a zombie we could not reap)."""
    if pid <= 0:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return fields[0] != b"Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def unix_socket_op(op: Callable[[str], None], directory: Path, name: str) -> None:
    """bind/connect to ``directory/name`` even when the path exceeds AF_UNIX's 108 bytes.

    Goes through ``/proc/self/fd/<dirfd>/name`` (no chdir: the daemon is
    multi-threaded).
    """
    dfd = os.open(directory, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        op(f"/proc/self/fd/{dfd}/{name}")
    finally:
        os.close(dfd)
