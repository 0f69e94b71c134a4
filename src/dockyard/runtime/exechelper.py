"""One exec of a container served by the native monitor (runtime/monitor/dymon.c).

The monitor does not run Python, so an exec is served by this helper, forked
either by the spawner (``SpawnExec``: the daemon routes the request there when
the shim is the monitor, so the helper starts with every module loaded, as a
shim does) or, when an Exec reaches the monitor anyway, by the monitor as
``python -I -c <boot> SRC CONN INIT BUNDLE STATE HEX`` (the connection and the
bytes it had read, starting with the Exec frame).

We start the process as the Python shim does (runtime/execstart.py), become
the child subreaper that reaps it, and serve that one connection:
``ExecStarted``, Output, Input/CloseStdin/Resize, then ``Exited``.  With a
tty, the pty master goes to the monitor first (``ExecConsole`` on shim.sock,
kept open while we run), so a Resize(exec_id) on another connection reaches
it.  The process lives in the container's pid namespace: it dies with the
container, and so do we.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from dockyard.core.runtime import ExitStatus
from dockyard.errors import InvalidArgument
from dockyard.oci.runtime import Spec, from_json
from dockyard.runtime import messages as m
from dockyard.runtime import seccomp, state as st
from dockyard.runtime import tty as ttys
from dockyard.runtime.cgroups import CgroupManager, cgroup_from_json
from dockyard.runtime.execstart import Running, start_exec
from dockyard.runtime.shim import _Sink
from dockyard.runtime.sys.linux import set_child_subreaper

REGISTER_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class ExecContext:
    """What every exec of one container needs from its files: the spawner keeps these per
    container (spawner.ContextCache), so its helpers need not parse them again."""

    spec: Spec
    cgroup: CgroupManager
    bpf: bytes | None


def load_context(bundle: Path, state_dir: Path) -> ExecContext:
    """Raises OSError, ValueError or InvalidArgument (an unreadable or invalid spec)."""
    spec = from_json(json.loads((bundle / "config.json").read_text()))
    cgroup = cgroup_from_json(json.loads((state_dir / "cgroup.json").read_text()))
    profile = spec.linux.seccomp  # compiled at create: this reads <exec-root>/seccomp/<key>.bpf
    bpf = None if profile is None else seccomp.cached_bpf(profile, state_dir.parent.parent / "seccomp")
    return ExecContext(spec, cgroup, bpf)


def serve(conn: socket.socket, early: bytes, state_dir: Path, bundle: Path, init_pid: int,
          context: ExecContext | None = None) -> int:
    """Read the Exec request (``early`` bytes first), run it, serve the connection; the exit code.
    ``context``: the container's, already loaded (else read here)."""
    set_child_subreaper()
    decoder = m.Decoder()
    msgs = decoder.feed(early)
    conn.settimeout(REGISTER_TIMEOUT)
    while not msgs:
        data = conn.recv(65536)
        if not data:
            return 1
        msgs = decoder.feed(data)
    conn.settimeout(None)
    req = msgs.pop(0)
    if not isinstance(req, m.Exec):
        _send(conn, m.Failed(f"unexpected request {req.type}", step="protocol"))
        return 1
    if st.read_exit(state_dir) is not None or not st.is_started(state_dir):
        _send(conn, m.Failed("container is not running", step="state"))
        return 1
    try:
        ctx = context or load_context(bundle, state_dir)
    except (OSError, ValueError, InvalidArgument) as exc:
        _send(conn, m.Failed(f"cannot read the container's spec: {exc}", step="exec"))
        return 1
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    run = start_exec(ctx.spec, ctx.bpf, init_pid, ctx.cgroup, req, [conn.fileno(), wake_r, wake_w])
    if isinstance(run, m.Failed):
        _send(conn, run)
        return 1
    console = _register(state_dir, req.exec_id, run.master) if run.master >= 0 else None
    ok = _send(conn, m.ExecStarted(run.pid))
    try:
        return _serve(conn if ok else None, decoder, msgs, run, req.exec_id, wake_r)
    finally:
        if console is not None:
            console.close()


def _register(state_dir: Path, exec_id: str, master: int) -> socket.socket | None:
    """ExecConsole + the master to the monitor, and its Ok, before ExecStarted: a Resize may follow
    at once.  The connection stays open while the exec runs (its EOF: forget the master)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(REGISTER_TIMEOUT)
        st.unix_socket_op(sock.connect, state_dir, st.SOCKET_FILE)
        socket.send_fds(sock, [m.encode(m.ExecConsole(exec_id))], [master])
        reply = m.Channel(sock).recv()
        if isinstance(reply, m.Ok):
            return sock
    except (OSError, m.ProtocolError):
        pass
    sock.close()  # the Python shim, or the monitor is gone: resizes of this exec fail, nothing else
    return None


def run_spawned(req: m.SpawnExec, conn_fd: int, context: ExecContext | None = None) -> int:
    """In the child the spawner forked: diagnostics to the container's shim.log, then ``serve``."""
    state_dir = Path(req.state_dir)
    log = os.open(state_dir / st.SHIM_LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    devnull = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1):
        os.dup2(devnull, fd)
    os.dup2(log, 2)
    os.close(devnull)
    os.close(log)
    return serve(socket.socket(fileno=conn_fd), b"", state_dir, Path(req.bundle), req.init_pid, context)


def cli() -> None:
    """Entry point when the monitor forks us (dymon.c puts SRC on sys.path first)."""
    try:
        conn_fd, init_pid = int(sys.argv[1]), int(sys.argv[2])
        bundle, state_dir, early = Path(sys.argv[3]), Path(sys.argv[4]), bytes.fromhex(sys.argv[5])
        os.set_inheritable(conn_fd, False)
        sys.exit(serve(socket.socket(fileno=conn_fd), early, state_dir, bundle, init_pid))
    except Exception:
        traceback.print_exc()  # into the container's shim.log (our stderr)
        sys.exit(1)


def _serve(conn: socket.socket | None, decoder: m.Decoder, msgs: list[m.Message], run: Running,
           exec_id: str, wake_r: int) -> int:
    sink = _Sink(run.stdin_fd, owns_fd=run.stdin_fd != run.master) if run.stdin_fd >= 0 else None
    out = dict(run.out)
    exit_status: ExitStatus | None = None
    for msg in msgs:
        _handle(conn, msg, sink, run, exec_id)
    while out or exit_status is None:
        rlist = [wake_r, *out] + ([conn.fileno()] if conn is not None else [])
        wlist = [sink.fd] if sink is not None and sink.buf and not sink.closed else []
        ready, writable, _ = select.select(rlist, wlist, [])
        if sink is not None and writable:
            sink.flush()
        for fd in ready:
            if fd == wake_r:
                while _read(wake_r):
                    pass
                exit_status = _reap(run.pid) or exit_status
            elif fd in out:
                data = _read(fd)
                if data is None:
                    continue
                if not data:
                    out.pop(fd)
                    os.close(fd)
                    if sink is not None and sink.fd == fd:
                        sink.closed = True  # the pty master doubled as stdin: closed here, once
                elif conn is not None and not _send_output(conn, out[fd], data):
                    conn = None  # the requester left; the process runs on, its output is dropped
            elif conn is not None:
                try:
                    data = conn.recv(65536)
                    new = decoder.feed(data) if data else []
                except (OSError, m.ProtocolError):
                    data, new = b"", []
                if not data:
                    conn.close()
                    conn = None
                for msg in new:
                    _handle(conn, msg, sink, run, exec_id)
    if sink is not None:
        sink._close_now()
    if conn is not None:
        _send(conn, m.Exited(exit_status.code, exit_status.finished_at_ns, exit_status.signal))
    return 0


def _handle(conn: socket.socket | None, msg: m.Message, sink: _Sink | None, run: Running, exec_id: str) -> None:
    if isinstance(msg, m.Input):
        if sink is not None:
            sink.write(msg.data)
    elif isinstance(msg, m.CloseStdin):
        if sink is not None and sink.fd != run.master:
            sink.close()  # a pty has no EOF to give: its input just stops
    elif conn is None:
        return
    elif isinstance(msg, m.Resize):
        try:
            if run.master < 0 or msg.exec_id not in ("", exec_id):
                raise OSError("no terminal to resize")
            ttys.set_winsize(run.master, msg.rows, msg.cols)
            _send(conn, m.Ok())
        except OSError as exc:
            _send(conn, m.Failed(str(exc), step="resize"))
    else:
        _send(conn, m.Failed(f"unexpected request {msg.type}", step="protocol"))


def _reap(pid: int) -> ExitStatus | None:
    found = None
    while True:
        try:
            child, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return found
        if child == 0:
            return found
        if child == pid:
            found = st.exit_status_from_wait(status, time.time_ns())


def _read(fd: int) -> bytes | None:
    try:
        return os.read(fd, 65536)
    except BlockingIOError:
        return None
    except OSError:  # EIO: the pty's last slave fd closed
        return b""


def _send_output(conn: socket.socket, stream: int, data: bytes) -> bool:
    return _send(conn, m.Output(stream, data))


def _send(conn: socket.socket, msg: m.Message) -> bool:
    try:
        conn.sendall(m.encode(msg))
        return True
    except OSError:
        return False
