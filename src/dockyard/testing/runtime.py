"""FakeRuntime: records lifecycle calls and simulates processes.

A started container "runs" until the test calls ``exit(id, code, output)``
(or ``kill``), so tests decide exactly when things happen: no sleeping.
A program can be scripted up front with ``script(argv0, output, code)`` to
exit as soon as it starts.  The same goes for execs (``exec``): a scripted
argv0 exits at once, any other runs until ``exec_exit(exec_id, code,
output)``; what a test wrote to an exec's or the container's stdin is in
``FakeExec.stdin`` / ``FakeStdin.data``, window sizes in ``resizes``.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

from dockyard.core.mount import Mount
from dockyard.core.runtime import ExecSpec, ExitStatus, RuntimeState
from dockyard.errors import Conflict, NotFound, RuntimeFailure


@dataclass
class _Proc:
    bundle: Path
    log_path: Path
    argv: list[str]
    status: str = "created"
    pid: int = 0
    exit: ExitStatus | None = None
    subscribers: list["queue.SimpleQueue[tuple[int, bytes] | None]"] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)
    paused: bool = False
    resources: object = None


class _Out:
    def __init__(self, q: "queue.SimpleQueue[tuple[int, bytes] | None]") -> None:
        self._q = q

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        while (item := self._q.get()) is not None:
            yield item

    def close(self) -> None:
        self._q.put(None)


class FakeStdin:
    """A container's stdin as the runtime would give it (``open_stdin``)."""

    def __init__(self) -> None:
        self.data = b""
        self.eof = False
        self.released = False

    def write(self, data: bytes) -> None:
        if self.eof:
            raise BrokenPipeError("stdin closed")
        self.data += data

    def close_stdin(self) -> None:
        self.eof = True

    def close(self) -> None:
        self.released = True


class FakeExec(FakeStdin):
    """A running exec: ``ExecProcess`` over a queue the test feeds through ``FakeRuntime.exec_exit``."""

    def __init__(self, spec: ExecSpec, pid: int, container_id: str) -> None:
        super().__init__()
        self.spec, self.pid, self.container_id = spec, pid, container_id
        self.exit: ExitStatus | None = None
        self._q: "queue.SimpleQueue[tuple[int, bytes] | None]" = queue.SimpleQueue()

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        while (item := self._q.get()) is not None:
            yield item

    def finish(self, code: int, output: Sequence[tuple[int, bytes]]) -> None:
        for item in output:
            self._q.put(item)
        self.exit = ExitStatus(code=code, finished_at_ns=time.time_ns())
        self._q.put(None)


class FakeRuntime:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.procs: dict[str, _Proc] = {}
        self.missing: set[str] = {"nope"}  # argv0 values that fail like a missing binary
        self._scripts: dict[str, tuple[list[tuple[int, bytes]], int]] = {}
        self._lock = threading.Lock()
        self._next_pid = 1000
        self.execs: dict[str, FakeExec] = {}
        self.stdins: dict[str, FakeStdin] = {}
        self.resizes: list[tuple[str, int, int, str]] = []  # (container, rows, cols, exec id)

    def script(self, argv0: str, output: Sequence[tuple[int, bytes]], code: int) -> None:
        self._scripts[argv0] = (list(output), code)

    def create(self, container_id: str, bundle: Path, rootfs: Sequence[Mount], log_path: Path,
               *, stdin: bool = False) -> RuntimeState:
        self.calls.append(("create", container_id))
        spec = json.loads((bundle / "config.json").read_text())
        with self._lock:
            self._next_pid += 1
            self.procs[container_id] = _Proc(bundle, log_path, spec["process"]["args"], pid=self._next_pid)
        return self.state(container_id)

    def attach(self, container_id: str) -> _Out:
        q: "queue.SimpleQueue[tuple[int, bytes] | None]" = queue.SimpleQueue()
        self._proc(container_id).subscribers.append(q)
        return _Out(q)

    def start(self, container_id: str) -> None:
        self.calls.append(("start", container_id))
        p = self._proc(container_id)
        if p.argv[0] in self.missing:
            raise RuntimeFailure(f'exec: "{p.argv[0]}": executable file not found in $PATH', step="exec",
                                 exit_code=127)
        p.status = "running"
        if p.argv[0] in self._scripts:
            output, code = self._scripts[p.argv[0]]
            self.exit(container_id, code, output)

    # -- interactive: stdin, resize, exec ------------------------------------------------------
    def open_stdin(self, container_id: str) -> FakeStdin:
        if self._proc(container_id).status != "running" and self._proc(container_id).status != "created":
            raise Conflict(f"container {container_id} is not running")
        return self.stdins.setdefault(container_id, FakeStdin())

    def resize(self, container_id: str, rows: int, cols: int, exec_id: str = "") -> None:
        p = self._proc(container_id)
        if p.status != "running" or (exec_id and (exec_id not in self.execs or self.execs[exec_id].exit)):
            raise Conflict(f"container {container_id} is not running")
        self.resizes.append((container_id, rows, cols, exec_id))

    def exec(self, container_id: str, spec: ExecSpec) -> FakeExec:
        self.calls.append(("exec", container_id))
        if self._proc(container_id).status != "running":
            raise Conflict(f"container {container_id} is not running")
        if spec.args[0] in self.missing:
            raise RuntimeFailure(f'exec: "{spec.args[0]}": executable file not found in $PATH', step="exec",
                                 exit_code=127)
        with self._lock:
            self._next_pid += 1
            proc = self.execs[spec.exec_id] = FakeExec(spec, self._next_pid, container_id)
        if spec.args[0] in self._scripts:
            output, code = self._scripts[spec.args[0]]
            proc.finish(code, output)
        return proc

    def exec_exit(self, exec_id: str, code: int, output: Sequence[tuple[int, bytes]] = ()) -> None:
        """Simulate an exec process writing ``output`` and exiting with ``code``."""
        self.execs[exec_id].finish(code, output)

    def exit(self, container_id: str, code: int, output: Sequence[tuple[int, bytes]] = ()) -> None:
        """Simulate the process writing ``output`` and exiting with ``code``."""
        p = self._proc(container_id)
        with open(p.log_path, "ab") as log:
            for stream, data in output:
                log.write(json.dumps({"log": data.decode(), "stream": "stdout" if stream == 1 else "stderr",
                                      "time": "2026-01-01T00:00:00.000000000Z"}).encode() + b"\n")
        for q in p.subscribers:
            for item in output:
                q.put(item)
            q.put(None)
        for e in self.execs.values():  # the container's execs die with it, status unknown (as a gone shim)
            if e.container_id == container_id and e.exit is None:
                e._q.put(None)
        p.status = "stopped"
        p.exit = ExitStatus(code=code, finished_at_ns=time.time_ns())
        p.done.set()

    def state(self, container_id: str) -> RuntimeState:
        p = self._proc(container_id)
        return RuntimeState(container_id, p.status, p.pid, p.exit)

    def kill(self, container_id: str, signal: int) -> None:
        self.calls.append(("kill", container_id))
        p = self._proc(container_id)
        if p.status == "running":
            self.exit(container_id, 128 + signal)

    def pause(self, container_id: str) -> None:
        self.calls.append(("pause", container_id))
        self._proc(container_id).paused = True

    def resume(self, container_id: str) -> None:
        self.calls.append(("resume", container_id))
        self._proc(container_id).paused = False

    def pids(self, container_id: str) -> list[int]:
        p = self._proc(container_id)
        return [p.pid] if p.status == "running" else []

    def update(self, container_id: str, resources: object) -> None:
        self.calls.append(("update", container_id))
        self._proc(container_id).resources = resources

    def wait(self, container_id: str, timeout: float | None = None) -> ExitStatus | None:
        p = self._proc(container_id)
        p.done.wait(timeout)
        return p.exit

    def delete(self, container_id: str) -> None:
        self.calls.append(("delete", container_id))
        self.procs.pop(container_id, None)

    def list(self) -> list[str]:
        return list(self.procs)

    def _proc(self, container_id: str) -> _Proc:
        try:
            return self.procs[container_id]
        except KeyError:
            raise NotFound(f"no such container in runtime: {container_id}") from None
