"""ExecService: ``docker exec`` — create, start (attached or detached), inspect, resize.

Exec instances live in memory (as dockerd's exec store does): one record per
id, with the container it runs in, its config and, once started, its pid
and exit code.  The runtime does the work (``Runtime.exec``: the container's
namespaces, cgroup, capabilities, seccomp); this service decides what runs:
the container's environment with the exec's on top, ``User`` resolved
against the container's /etc/passwd, the container's working directory
unless ``WorkingDir`` says otherwise.

An attached start returns an ``ExecRun``: iterate it for output; when the
iteration ends the exit code is recorded *before* the caller closes the
connection, so a client that inspects right after the stream ends (the
docker CLI does) sees ``ExitCode``.  A detached start runs the same
iteration on a thread.
"""

from __future__ import annotations

import queue
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Protocol

from dockyard.core.containers import ContainerStore, Status
from dockyard.core.events import CONTAINER, Event, EventBus, NullEventBus
from dockyard.core.runtime import ExecProcess, ExecSpec, Runtime
from dockyard.daemon.users import resolve_user
from dockyard.errors import Conflict, InvalidArgument, NotFound, RuntimeFailure

MAX_RECORDS = 1024  # finished execs kept for inspect; the oldest finished go first


class RootfsReader(Protocol):
    def read_rootfs_file(self, key: str, path: str) -> bytes | None: ...


@dataclass(slots=True)
class ExecRecord:
    id: str
    container_id: str
    args: tuple[str, ...]
    env: tuple[str, ...]
    user: str
    working_dir: str
    tty: bool
    privileged: bool
    attach_stdin: bool
    attach_stdout: bool
    attach_stderr: bool
    detach_keys: str
    running: bool = False
    started: bool = False
    pid: int = 0
    exit_code: int | None = None
    process: ExecProcess | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "ID": self.id, "Running": self.running, "ExitCode": self.exit_code,
            "ProcessConfig": {"tty": self.tty, "entrypoint": self.args[0], "arguments": list(self.args[1:]),
                              "privileged": self.privileged, "user": self.user},
            "OpenStdin": self.attach_stdin, "OpenStderr": self.attach_stderr, "OpenStdout": self.attach_stdout,
            "CanRemove": False, "ContainerID": self.container_id, "DetachKeys": self.detach_keys,
            "Pid": self.pid,
        }


class ExecRun:
    """An exec's output pairs until it exits; stdin through ``write``/``close_stdin``.

    A reader thread owns the runtime stream and records the exit whatever the
    consumer does; ``close`` (client gone, or detached) only ends *this*
    iteration, promptly, and the process runs on.
    """

    def __init__(self, service: "ExecService", rec: ExecRecord, proc: ExecProcess) -> None:
        self._service, self.record, self._proc = service, rec, proc
        self._queue: "queue.SimpleQueue[tuple[int, bytes] | None]" = queue.SimpleQueue()
        threading.Thread(target=self._read, daemon=True, name=f"exec-{rec.id[:12]}").start()

    def _read(self) -> None:
        try:
            for stream, data in self._proc:
                if (stream == 1 and self.record.attach_stdout) or (stream == 2 and self.record.attach_stderr):
                    self._queue.put((stream, data))
        finally:
            self._service._finished(self.record, self._proc)  # before the consumer sees the end
            self._queue.put(None)

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        while (item := self._queue.get()) is not None:
            yield item

    def write(self, data: bytes) -> None:
        self._proc.write(data)

    def close_stdin(self) -> None:
        self._proc.close_stdin()

    def close(self) -> None:
        self._queue.put(None)


def _str_list(body: Mapping[str, Any], key: str) -> list[str]:
    value = body.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidArgument(f"invalid JSON: {key} must be an array of strings")
    return list(value)


def merge_env(base: tuple[str, ...], extra: list[str]) -> tuple[str, ...]:
    """``extra`` replaces same-named entries of ``base`` and appends the rest (moby ReplaceOrAppendEnvValues)."""
    out = list(base)
    index = {e.partition("=")[0]: i for i, e in enumerate(out)}
    for e in extra:
        name = e.partition("=")[0]
        if name in index:
            out[index[name]] = e
        else:
            index[name] = len(out)
            out.append(e)
    return tuple(out)


class ExecService:
    def __init__(self, store: ContainerStore, rootfs: RootfsReader, runtime: Runtime,
                 events: EventBus | None = None) -> None:
        self._store = store
        self._rootfs = rootfs
        self._runtime = runtime
        self._events: EventBus = events or NullEventBus()
        self._lock = threading.Lock()
        self._records: dict[str, ExecRecord] = {}

    def _publish(self, rec: ExecRecord, action: str, **extra: str) -> None:
        try:
            c = self._store.get(rec.container_id)
        except NotFound:
            return
        attrs = {**c.config.labels, "image": c.config.image, "name": c.config.name, "execID": rec.id, **extra}
        self._events.publish(Event(CONTAINER, action, c.id, attrs))

    def _running_container(self, ref: str) -> Any:
        c = self._store.resolve(ref)
        if c.state.status is Status.PAUSED:
            raise Conflict(f"Container {c.id} is paused, unpause the container before exec")
        if c.state.status is not Status.RUNNING:
            raise Conflict(f"Container {c.id} is not running")
        return c

    def get(self, exec_id: str) -> ExecRecord:
        with self._lock:
            rec = self._records.get(exec_id)
        if rec is None:
            raise NotFound(f"No such exec instance: {exec_id}")
        return rec

    # ------------------------------------------------------------------ create
    def create(self, ref: str, body: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise InvalidArgument("invalid JSON: exec config must be a JSON object")
        cmd = _str_list(body, "Cmd")
        if not cmd:
            raise InvalidArgument("No exec command specified")
        env = _str_list(body, "Env")
        for e in env:
            if not e or e.startswith("="):
                raise InvalidArgument(f"invalid environment variable: {e}")
        workdir = body.get("WorkingDir") or ""
        if not isinstance(workdir, str) or (workdir and not workdir.startswith("/")):
            raise InvalidArgument(f"the working directory '{workdir}' is invalid, it needs to be an absolute path")
        c = self._running_container(ref)
        rec = ExecRecord(
            id=secrets.token_hex(32), container_id=c.id, args=tuple(cmd), env=tuple(env),
            user=str(body.get("User") or ""), working_dir=workdir, tty=bool(body.get("Tty")),
            privileged=bool(body.get("Privileged")), attach_stdin=bool(body.get("AttachStdin")),
            attach_stdout=bool(body.get("AttachStdout")), attach_stderr=bool(body.get("AttachStderr")),
            detach_keys=str(body.get("DetachKeys") or ""))
        with self._lock:
            self._records[rec.id] = rec
            self._trim()
        self._publish(rec, "exec_create: " + " ".join(rec.args))
        return {"Id": rec.id}

    def _trim(self) -> None:
        if len(self._records) <= MAX_RECORDS:
            return
        for key in [k for k, r in self._records.items() if r.exit_code is not None][: len(self._records) - MAX_RECORDS]:
            del self._records[key]

    # ------------------------------------------------------------------ start
    def start(self, exec_id: str, *, detach: bool, tty: bool | None = None) -> ExecRun | None:
        rec = self.get(exec_id)
        with self._lock:
            if rec.started:
                state = "is already running" if rec.running else "has already run"
                raise Conflict(f"Error: Exec command {exec_id} {state}")
            rec.started = True
        if tty is not None:
            rec.tty = tty
        try:
            c = self._running_container(rec.container_id)
            spec = self._spec(c, rec)
            proc = self._runtime.exec(c.id, spec)
        except BaseException as exc:
            rec.exit_code = exc.exit_code if isinstance(exc, RuntimeFailure) and exc.exit_code else 126
            raise
        rec.process, rec.pid, rec.running = proc, proc.pid, True
        self._publish(rec, "exec_start: " + " ".join(rec.args))
        run = ExecRun(self, rec, proc)
        if detach:
            run.close()
            return None
        return run

    def _spec(self, c: Any, rec: ExecRecord) -> ExecSpec:
        cfg = c.config
        user = resolve_user(rec.user or cfg.user, self._rootfs.read_rootfs_file(c.id, "etc/passwd"),
                            self._rootfs.read_rootfs_file(c.id, "etc/group"))
        env = merge_env(tuple(cfg.env), list(rec.env))
        names = {e.partition("=")[0] for e in env}
        if "HOME" not in names:
            env += (f"HOME={user.home}",)
        if rec.tty and "TERM" not in names:
            env += ("TERM=xterm",)
        return ExecSpec(rec.id, rec.args, env, rec.working_dir or cfg.working_dir or "/", user.uid, user.gid,
                        user.additional_gids, tty=rec.tty, stdin=rec.attach_stdin, privileged=rec.privileged)

    def _finished(self, rec: ExecRecord, proc: ExecProcess) -> None:
        with self._lock:
            if not rec.running:
                return
            rec.running = False
            rec.exit_code = proc.exit.code if proc.exit is not None else 137  # shim gone with the container
            rec.process = None
        proc.close()
        self._publish(rec, "exec_die", exitCode=str(rec.exit_code))

    # ------------------------------------------------------------------ inspect, resize
    def inspect_json(self, exec_id: str) -> dict[str, Any]:
        return self.get(exec_id).to_json()

    def resize(self, exec_id: str, height: int, width: int) -> None:
        rec = self.get(exec_id)
        if not rec.running:
            raise Conflict(f"Exec {exec_id} is not running")  # a resize racing the exit is harmless
        self._runtime.resize(rec.container_id, height, width, exec_id=rec.id)

    def forget_container(self, container_id: str) -> None:
        with self._lock:
            for key in [k for k, r in self._records.items() if r.container_id == container_id and not r.running]:
                del self._records[key]
