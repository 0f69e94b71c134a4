"""Typed messages between ShimRuntime, the spawner, the shim and the container init.

Theory of operation
-------------------
Every channel (the daemon<->shim unix socket ``shim.sock``, the create
report socket, the shim<->init socketpair, the daemon<->spawner socket) is a
byte stream carrying *frames*::

    +------+----------------+-----------------+
    | kind | length (u32 BE)| payload         |
    +------+----------------+-----------------+
      1 B       4 B            length bytes

``kind`` 1 is a control message: a UTF-8 JSON object ``{"type": <name>, ...}``
decoded into one of the dataclasses below.  Kinds 2 and 3 are raw stdout /
stderr bytes (``Output``), so live output never pays for JSON escaping;
kind 4 is raw stdin bytes (``Input``) going the other way.  A pty master
rides as SCM_RIGHTS beside a ``Console`` frame (``Channel.fds``).

This module is sans-I/O (h11 style): ``encode`` turns a message into bytes
and ``Decoder.feed`` turns bytes into messages.  ``read_message`` /
``send_message`` are the thin blocking drivers used by the processes.

Conversations (requests from ShimRuntime on ``shim.sock``):

    Attach   -> Output* ... Exited            (then the shim closes)
    Wait     -> Exited
    Start    -> Ok | Failed(step="exec", exit_code=126/127)
    Kill     -> Ok | Failed
    State    -> StateReply
    Input*   (container stdin, or the exec's on an Exec connection); CloseStdin
    Resize   -> Ok | Failed                   (container's pty, or exec_id's)
    Exec     -> ExecStarted | Failed(exit_code=126/127), then Output* ... Exited

With the native monitor (runtime/monitor), execs are served by an exec helper
(runtime/exechelper.py) that the spawner forks (``SpawnExec``), or the monitor
itself; a helper with a pty sends ``ExecConsole`` + the master to the monitor
(-> Ok) so that ``Resize(exec_id)`` on ``shim.sock`` reaches it.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import struct
from dataclasses import dataclass
from typing import Any, ClassVar, Union

_HEADER = struct.Struct(">BI")
KIND_CONTROL = 1
KIND_STDOUT = 2
KIND_STDERR = 3
KIND_STDIN = 4
MAX_FRAME = 16 * 1024 * 1024


class ProtocolError(Exception):
    """The peer sent bytes that are not a valid frame."""


# ----------------------------------------------------------------- requests

@dataclass(frozen=True, slots=True)
class Attach:
    type: ClassVar[str] = "attach"


@dataclass(frozen=True, slots=True)
class Wait:
    type: ClassVar[str] = "wait"


@dataclass(frozen=True, slots=True)
class Start:
    type: ClassVar[str] = "start"


@dataclass(frozen=True, slots=True)
class Kill:
    signal: int
    type: ClassVar[str] = "kill"


@dataclass(frozen=True, slots=True)
class State:
    type: ClassVar[str] = "state"


@dataclass(frozen=True, slots=True)
class CloseStdin:
    """Close the stdin of this connection's target: EOF for the process."""

    type: ClassVar[str] = "close_stdin"


@dataclass(frozen=True, slots=True)
class Resize:
    rows: int
    cols: int
    exec_id: str = ""
    type: ClassVar[str] = "resize"


@dataclass(frozen=True, slots=True)
class Exec:
    """Run one more process in the container (runtime/exec.py); user already resolved."""

    exec_id: str
    args: list[str]
    env: list[str]
    cwd: str
    uid: int
    gid: int
    additional_gids: list[int]
    tty: bool = False
    stdin: bool = False
    privileged: bool = False
    type: ClassVar[str] = "exec"


@dataclass(frozen=True, slots=True)
class Spawn:
    """Daemon -> spawner: launch a shim (the create report socket rides along as SCM_RIGHTS)."""

    container_id: str
    bundle: str
    rootfs: list[dict[str, Any]]
    log_path: str
    state_dir: str
    stdin: bool = False  # keep a pipe to the process's stdin (OpenStdin)
    type: ClassVar[str] = "spawn"


@dataclass(frozen=True, slots=True)
class SpawnExec:
    """Daemon -> spawner: fork an exec helper (runtime/exechelper.py) for a container served by
    the native monitor; the connection it serves rides along as SCM_RIGHTS."""

    state_dir: str
    bundle: str
    init_pid: int
    type: ClassVar[str] = "spawn_exec"


@dataclass(frozen=True, slots=True)
class ExecConsole:
    """Exec helper -> native monitor: the exec's pty master (SCM_RIGHTS), for Resize(exec_id);
    the connection stays open while the exec runs."""

    exec_id: str
    type: ClassVar[str] = "exec_console"


# ----------------------------------------------------------------- replies

@dataclass(frozen=True, slots=True)
class Ok:
    type: ClassVar[str] = "ok"


@dataclass(frozen=True, slots=True)
class Failed:
    message: str
    step: str = ""
    exit_code: int | None = None
    type: ClassVar[str] = "failed"


@dataclass(frozen=True, slots=True)
class Created:
    """Shim -> ShimRuntime.create: init is set up and waiting before exec."""

    pid: int
    shim_pid: int
    type: ClassVar[str] = "created"


@dataclass(frozen=True, slots=True)
class ExecStarted:
    pid: int
    type: ClassVar[str] = "exec_started"


@dataclass(frozen=True, slots=True)
class StateReply:
    status: str
    pid: int
    type: ClassVar[str] = "state_reply"


@dataclass(frozen=True, slots=True)
class Exited:
    code: int
    finished_at_ns: int
    signal: int = 0
    oom_killed: bool = False
    type: ClassVar[str] = "exited"


# ------------------------------------------------------ shim <-> init channel

@dataclass(frozen=True, slots=True)
class Pid:
    """Intermediate -> shim: the pid (in the shim's pid ns) of the container init."""

    pid: int
    type: ClassVar[str] = "pid"


@dataclass(frozen=True, slots=True)
class Ready:
    """Init -> shim: every step up to exec is done; waiting for Start."""

    type: ClassVar[str] = "ready"


@dataclass(frozen=True, slots=True)
class Console:
    """Init (or an exec process) -> shim: the pty master, as SCM_RIGHTS beside this frame."""

    type: ClassVar[str] = "console"


@dataclass(frozen=True, slots=True)
class Input:
    data: bytes
    type: ClassVar[str] = "input"


@dataclass(frozen=True, slots=True)
class Output:
    stream: int  # core.runtime.STDOUT / STDERR
    data: bytes
    type: ClassVar[str] = "output"


Message = Union[Attach, Wait, Start, Kill, State, CloseStdin, Resize, Exec, Spawn, SpawnExec, ExecConsole, Ok,
                Failed, Created, ExecStarted, StateReply, Exited, Pid, Ready, Console, Input, Output]

_CONTROL: dict[str, type] = {
    c.type: c for c in (Attach, Wait, Start, Kill, State, CloseStdin, Resize, Exec, Spawn, SpawnExec, ExecConsole,
                        Ok, Failed, Created, ExecStarted, StateReply, Exited, Pid, Ready, Console)
}


def encode(msg: Message) -> bytes:
    """One frame for ``msg``."""
    if isinstance(msg, Output):
        kind = KIND_STDOUT if msg.stream == 1 else KIND_STDERR
        return _HEADER.pack(kind, len(msg.data)) + msg.data
    if isinstance(msg, Input):
        return _HEADER.pack(KIND_STDIN, len(msg.data)) + msg.data
    body = {"type": msg.type, **dataclasses.asdict(msg)}
    payload = json.dumps(body, separators=(",", ":")).encode()
    return _HEADER.pack(KIND_CONTROL, len(payload)) + payload


def _decode_control(payload: bytes) -> Message:
    try:
        obj = json.loads(payload)
        cls = _CONTROL[obj.pop("type")]
        return cls(**obj)  # type: ignore[no-any-return]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ProtocolError(f"bad control message: {payload[:80]!r}") from exc


class Decoder:
    """Incremental frame decoder: ``feed`` bytes, get whole messages back."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Message]:
        self._buf += data
        out: list[Message] = []
        while len(self._buf) >= _HEADER.size:
            kind, length = _HEADER.unpack_from(self._buf)
            if kind not in (KIND_CONTROL, KIND_STDOUT, KIND_STDERR, KIND_STDIN) or length > MAX_FRAME:
                raise ProtocolError(f"bad frame header: kind={kind} length={length}")
            end = _HEADER.size + length
            if len(self._buf) < end:
                break
            payload = bytes(self._buf[_HEADER.size:end])
            del self._buf[:end]
            if kind == KIND_CONTROL:
                out.append(_decode_control(payload))
            elif kind == KIND_STDIN:
                out.append(Input(payload))
            else:
                out.append(Output(1 if kind == KIND_STDOUT else 2, payload))
        return out

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame still buffered."""
        return len(self._buf)


# ------------------------------------------------------- blocking drivers

class Channel:
    """Blocking message I/O over a stream socket (one reader at a time)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._decoder = Decoder()
        self._ready: list[Message] = []
        self.fds: list[int] = []  # file descriptors received (SCM_RIGHTS), oldest first; caller owns them

    def send(self, msg: Message, fds: list[int] | None = None) -> None:
        if fds:
            socket.send_fds(self.sock, [encode(msg)], fds)
        else:
            self.sock.sendall(encode(msg))

    def recv(self) -> Message | None:
        """Next message, or None at EOF. Raises ProtocolError on a truncated frame."""
        while not self._ready:
            data, fds, _, _ = socket.recv_fds(self.sock, 65536, 4, socket.MSG_CMSG_CLOEXEC)
            self.fds += fds
            if not data:
                if self._decoder.pending:
                    raise ProtocolError("connection closed inside a frame")
                return None
            self._ready.extend(self._decoder.feed(data))
        return self._ready.pop(0)

    def close(self) -> None:
        self.sock.close()
