"""The daemon's view of an OCI runtime.

Lifecycle of one container, as the daemon drives it::

    rt.create(id, bundle, rootfs, log_path)   # shim up, init waiting before exec
    out = rt.attach(id)                       # live output from here on
    rt.start(id)                              # init execs the process
    for chunk in out: ...                     # (stream, bytes) until the process is gone
    status = rt.wait(id)                      # ExitStatus
    rt.delete(id)                             # cgroup, shim and runtime state gone

Interactive containers (``create(..., stdin=True)`` and/or a spec with
``process.terminal``)::

    inp = rt.open_stdin(id); inp.write(b"ls\n"); inp.close_stdin()   # EOF (StdinOnce)
    rt.resize(id, rows=40, cols=120)                                # pty only
    ex = rt.exec(id, ExecSpec("e1", ["sh"], env, "/", 0, 0, ()))    # ExecProcess
    for stream, data in ex: ...                                     # until it exits
    ex.exit                                                         # ExitStatus

The runtime knows bundles, not images, names or restart policies: the
caller owns the container state machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Protocol, Sequence

from dockyard.core.mount import Mount
from dockyard.oci.runtime import Resources

STDOUT = 1
STDERR = 2


@dataclass(frozen=True, slots=True)
class ExitStatus:
    """How the container's init ended, in Docker's terms.

    ``code`` is the exit status, or 128+N after death by signal N.
    ``finished_at_ns`` is wall-clock nanoseconds since the epoch.
    """

    code: int
    finished_at_ns: int
    signal: int = 0
    oom_killed: bool = False


@dataclass(frozen=True, slots=True)
class RuntimeState:
    """``status`` is "created" (init waiting to exec), "running" or "stopped"."""

    id: str
    status: str
    pid: int
    exit: ExitStatus | None = None


class OutputStream(Protocol):
    """Live output of a container: iterate for (stream, data) pairs.

    Iteration ends once the process has exited and all its output was
    delivered. ``close`` may be called from another thread to stop early.
    """

    def __iter__(self) -> Iterator[tuple[int, bytes]]: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ExecSpec:
    """One more process in a running container; the user is already resolved (uid/gid)."""

    exec_id: str
    args: tuple[str, ...]
    env: tuple[str, ...]
    cwd: str
    uid: int
    gid: int
    additional_gids: tuple[int, ...] = ()
    tty: bool = False
    stdin: bool = False
    privileged: bool = False


class InputStream(Protocol):
    """The stdin of a container (or exec) process. Methods may be called from any thread."""

    def write(self, data: bytes) -> None: ...

    def close_stdin(self) -> None:
        """EOF for the process (a pty gets none: its input just stops)."""
        ...

    def close(self) -> None:
        """Let go of the stream; the process's stdin stays open."""
        ...


class ExecProcess(OutputStream, InputStream, Protocol):
    """A started exec: iterate its output until it exits; ``exit`` is then set."""

    pid: int
    exit: ExitStatus | None


class Runtime(Protocol):
    def create(self, container_id: str, bundle: Path, rootfs: Sequence[Mount], log_path: Path,
               *, stdin: bool = False) -> RuntimeState:
        """Start the shim and set the container up to just before exec.

        ``bundle`` holds config.json; ``rootfs`` mounts are performed inside
        the container's own mount namespace onto ``bundle/rootfs``, so they
        vanish with the container. stdout/stderr go to ``log_path`` in
        Docker's json-file format (with ``process.terminal``, a pty's output
        as stdout). ``stdin``: keep the process's stdin open for
        ``open_stdin`` (else /dev/null). Raises RuntimeFailure and leaves
        nothing behind on failure.
        """
        ...

    def open_stdin(self, container_id: str) -> InputStream:
        """Conflict when the container is not running."""
        ...

    def resize(self, container_id: str, rows: int, cols: int, exec_id: str = "") -> None:
        """Window size of the container's (or exec's) pty; Conflict/RuntimeFailure otherwise."""
        ...

    def exec(self, container_id: str, spec: ExecSpec) -> ExecProcess:
        """Run ``spec`` in the container's namespaces, cgroup and security settings.

        Returns once execve succeeded; RuntimeFailure(exit_code=126/127) when
        the command cannot run; Conflict when the container is not running.
        """
        ...

    def attach(self, container_id: str) -> OutputStream: ...

    def start(self, container_id: str) -> None:
        """Let init exec. RuntimeFailure(exit_code=126/127) when it cannot."""
        ...

    def state(self, container_id: str) -> RuntimeState: ...

    def kill(self, container_id: str, signal: int) -> None: ...

    def pause(self, container_id: str) -> None:
        """Freeze every process (cgroup freezer); returns once frozen."""
        ...

    def resume(self, container_id: str) -> None: ...

    def pids(self, container_id: str) -> list[int]:
        """Host pids of the container's processes (``top``)."""
        ...

    def update(self, container_id: str, resources: Resources) -> None:
        """New cgroup limits for a live container."""
        ...

    def wait(self, container_id: str, timeout: float | None = None) -> ExitStatus | None:
        """Block until the container has exited; None on timeout."""
        ...

    def delete(self, container_id: str) -> None:
        """Kill what remains (SIGKILL), remove cgroup and runtime state. Idempotent."""
        ...

    def list(self) -> list[str]:
        """Container ids the runtime has state for (to recover after a daemon restart)."""
        ...
