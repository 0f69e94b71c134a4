"""The per-container shim: a single-threaded select loop that outlives the daemon.

Theory of operation
-------------------
The spawner forks us (we setsid; not a child of the daemon).  We:

1. become a child subreaper, so the container init is reparented to us when
   the launcher's intermediate process exits;
2. from a short-lived child (runtime/shimcreate.py, so that its heap writes
   do not stay private to us): create the cgroup and apply resources, make
   the stdout/stderr pipes, ``launcher.launch`` the init and wait for ``Pid``
   and ``Ready`` on the init channel; the child hands back the channel and
   the stdio fds and exits;
3. open the json-file log, bind ``shim.sock``, write ``state.json`` and
   report ``Created`` on the create report socket (a failure is reported as
   ``Failed`` after cleaning up cgroup and processes).  Spec, seccomp filter
   and cgroup are read again only when an exec or the exit needs them;
4. loop: serve requests (messages.py), copy output to the log and to attached
   clients, relay ``Start`` to init and its exec result back, reap children
   on SIGCHLD; write ``Input`` to the process's stdin (a pipe, or the pty
   master with ``process.terminal``) through non-blocking ``_Sink`` buffers;
   run ``Exec`` processes (runtime/exec.py), whose output goes to the
   requesting connection only (not the log) and whose exit ends it;
5. once init is reaped and both pipes hit EOF (or a short grace passed):
   write ``exit.json``, tell waiters and attached clients ``Exited``,
   remove ``shim.sock`` and exit.  The cgroup and state dir stay until
   ``ShimRuntime.delete``.

Once the process runs (the channel's EOF after ``Start``), the shim execve's
into the native monitor (runtime/monitor: same pid, same socket, same
protocol, a tenth of the memory) when the container's features are all ones
it implements and nothing is in flight; otherwise steps 4-5 stay here.
"""

from __future__ import annotations

import errno
import json
import os
import select
import signal
import socket
import time
import traceback
from pathlib import Path

from dockyard.core.mount import Mount as RootfsMount
from dockyard.core.runtime import ExitStatus
from dockyard.oci.runtime import Seccomp, Spec, from_json
from dockyard.errors import InvalidArgument
from dockyard.runtime import messages as m
from dockyard.runtime import devices_cgroup, seccomp
from dockyard.runtime import tty as ttys
from dockyard.runtime.execstart import start_exec
from dockyard.runtime import state as st
from dockyard.runtime.cgroups import CgroupManager, CgroupV2, cgroup_from_json
from dockyard.runtime.logrotate import LogEncoder, LogWriter
from dockyard.runtime.launcher import launch
from dockyard.runtime.monitor import handover
from dockyard.runtime.shimcreate import CreateFailed as _CreateFailed, create_in_child
from dockyard.runtime.sys.linux import LinuxSyscalls, set_child_subreaper

CREATE_TIMEOUT = 60.0
DRAIN_GRACE = 2.0  # after init's death, how long orphans may hold the output pipes
SINK_HIGH_WATER = 1 << 20  # stop reading a client's input while this much waits for the process


class _Sink:
    """A process's stdin (pipe or pty master): non-blocking, buffered, so a process that does
    not read never blocks the loop. ``close`` takes effect once the buffer is flushed."""

    def __init__(self, fd: int, owns_fd: bool = True) -> None:
        self.fd = fd
        self.owns_fd = owns_fd
        self.buf = bytearray()
        self.closing = False
        self.closed = False
        os.set_blocking(fd, False)

    def write(self, data: bytes) -> None:
        if not self.closed and not self.closing:
            self.buf += data
            self.flush()

    def flush(self) -> None:
        while self.buf and not self.closed:
            try:
                n = os.write(self.fd, self.buf)
            except BlockingIOError:
                return
            except OSError:  # EPIPE / EIO: the process is gone or closed its stdin
                self.buf.clear()
                break
            del self.buf[:n]
        if self.closing:
            self._close_now()

    def close(self) -> None:
        self.closing = True
        self.flush()

    def _close_now(self) -> None:
        if not self.closed:
            self.closed = True
            self.buf.clear()
            if self.owns_fd:
                os.close(self.fd)


class _Exec:
    """One exec process: its connection, output fds, stdin, pty master and exit."""

    def __init__(self, req: m.Exec, client: "_Client") -> None:
        self.req = req
        self.client: _Client | None = client
        self.pid = 0
        self.out: dict[int, int] = {}  # fd -> stream
        self.stdin: _Sink | None = None
        self.master = -1
        self.exit: ExitStatus | None = None


class _Client:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.decoder = m.Decoder()
        self.attached = False
        self.waiting = False
        self.exec: _Exec | None = None  # the exec this connection started (its Input goes there)

    def send(self, msg: m.Message) -> bool:
        try:
            self.sock.sendall(m.encode(msg))
            return True
        except OSError:
            return False


def main(req: m.Spawn, report: socket.socket, close_fds: list[int]) -> int:
    """Entry point in the freshly forked shim process; returns the exit code."""
    state_dir = Path(req.state_dir)
    log = os.open(state_dir / st.SHIM_LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    devnull = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1):
        os.dup2(devnull, fd)
    os.dup2(log, 2)  # tracebacks of the shim itself land in shim.log
    os.close(devnull)
    try:
        return Shim(req, report, close_fds).run()
    except BaseException:
        os.write(2, traceback.format_exc().encode())
        return 1


class Shim:
    def __init__(self, req: m.Spawn, report: socket.socket, close_fds: list[int]) -> None:
        self.req = req
        self.report = report
        self.close_fds = close_fds
        self.state_dir = Path(req.state_dir)
        self._spec: Spec | None = None
        self._cgroup: CgroupManager | None = None
        self.cgroup_dirs: tuple[str, ...] = ()  # reported by the create child
        self.init_pid = 0
        self.exit: ExitStatus | None = None
        self.clients: dict[int, _Client] = {}
        self.pending_start: _Client | None = None
        self.chan_open = True
        self.stdin: _Sink | None = None
        self.master = -1  # pty master with process.terminal
        self._bpf: bytes | None = None
        self.execs: dict[str, _Exec] = {}
        self.annotations: dict[str, str] = {}  # the spec's, set by create_in_child
        self.handover_pending = False  # try to become the native monitor (runtime/monitor/handover.py)

    @property
    def cgroup(self) -> CgroupManager:
        """Loaded on first use (create child, exec, exit): not kept by an idle shim."""
        if self._cgroup is None:
            self._cgroup = cgroup_from_json(json.loads((self.state_dir / "cgroup.json").read_text()))
        return self._cgroup

    @property
    def spec(self) -> Spec:
        """Parsed on first use: in the create child, and in the shim only when an exec needs it."""
        if self._spec is None:
            self._spec = from_json(json.loads((Path(self.req.bundle) / "config.json").read_text()))
        return self._spec

    @property
    def bpf(self) -> bytes | None:
        if self._bpf is None and (profile := self.spec.linux.seccomp) is not None:
            self._bpf = self._seccomp_bpf(profile)
        return self._bpf

    def _seccomp_bpf(self, profile: Seccomp) -> bytes:
        try:  # compiled once per distinct profile; <exec-root>/seccomp, beside runtime/ (not in it)
            return seccomp.cached_bpf(profile, self.state_dir.parent.parent / "seccomp")
        except InvalidArgument as exc:
            raise _CreateFailed("seccomp", str(exc)) from exc

    # ------------------------------------------------------------- create

    def run(self) -> int:
        set_child_subreaper()
        wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes select via wake_w
        try:
            create_in_child(self)
            # json-file or local (rotated per the spec's dockyard.log.* annotations), or nothing ("none")
            self.log = LogWriter.from_annotations(Path(self.req.log_path), self.annotations)
            self._open_listener()
        except Exception as exc:
            if not isinstance(exc, _CreateFailed):
                traceback.print_exc()  # into shim.log
                exc = _CreateFailed("shim", f"{type(exc).__name__}: {exc}")
            self._cleanup_failed()
            _send_quietly(self.report, m.Failed(exc.message, step=exc.step))
            return 1
        record = st.ShimRecord(self.req.bundle, self.req.log_path, self.init_pid, os.getpid(),
                               self.cgroup_dirs)
        st.write_record(self.state_dir, record)
        _send_quietly(self.report, m.Created(self.init_pid, os.getpid()))
        self.report.close()
        self._loop(wake_r)
        return 0

    def _create(self) -> None:
        try:
            self.cgroup.create()
            self.cgroup.apply(self.spec.linux.resources)
            if self.spec.linux.resources.devices and isinstance(getattr(self.cgroup, "dirs", None), dict):
                if not devices_cgroup.apply_v1(self.cgroup.dirs, self.spec.linux.resources.devices) \
                        and isinstance(self.cgroup, CgroupV2):
                    from dockyard.runtime import devices_bpf  # cgroup v2: a BPF device program

                    devices_bpf.attach(self.cgroup.path, self.spec.linux.resources.devices)
        except OSError as exc:
            raise _CreateFailed("cgroup", str(exc)) from exc
        terminal = self.spec.process.terminal
        out_r, out_w = os.pipe() if not terminal else (-1, -1)
        err_r, err_w = os.pipe() if not terminal else (-1, -1)
        in_r, in_w = os.pipe() if self.req.stdin and not terminal else (-1, -1)
        parent, child = socket.socketpair()
        mounts = [RootfsMount.from_json(x) for x in self.req.rootfs]
        bpf = self.bpf
        intermediate = launch(LinuxSyscalls(), self.spec, Path(self.req.bundle), mounts, self.cgroup,
                              out_w, err_w, child, [self.report.fileno(), *self.close_fds], bpf, stdin_r=in_r)
        for fd in (out_w, err_w, in_r):
            if fd >= 0:
                os.close(fd)
        child.close()
        self.out = {out_r: 1, err_r: 2} if not terminal else {}
        if in_w >= 0:
            self.stdin = _Sink(in_w)
        self.chan = m.Channel(parent)
        parent.settimeout(CREATE_TIMEOUT)
        try:
            # Pid (from the intermediate) and Ready (from init) race each other: take both in any order.
            ready = False
            while not (ready and self.init_pid):
                msg = self.chan.recv()
                if isinstance(msg, m.Pid):
                    self.init_pid = msg.pid
                    _reap(intermediate)
                elif isinstance(msg, m.Ready):
                    ready = True
                elif isinstance(msg, m.Console) and self.chan.fds:
                    self.master = self.chan.fds.pop(0)
                    os.set_blocking(self.master, False)
                    self.out = {self.master: 1}
                    if self.req.stdin:
                        self.stdin = _Sink(self.master, owns_fd=False)
                else:
                    _reap(intermediate)
                    raise _failure(msg)
        except (OSError, m.ProtocolError) as exc:  # timeout included
            raise _CreateFailed("create", f"init did not report: {exc}") from exc
        parent.settimeout(None)

    def _open_listener(self) -> None:
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        st.unix_socket_op(self.listener.bind, self.state_dir, st.SOCKET_FILE)
        self.listener.listen(64)
        self.listener.setblocking(False)

    def _cleanup_failed(self) -> None:
        self.cgroup.kill()
        if self.init_pid:
            try:
                os.kill(self.init_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        while self.cgroup.pids() and time.monotonic() < deadline:
            _reap_any()
            time.sleep(0.005)
        _reap_any()
        try:
            self.cgroup.destroy()
        except OSError:
            traceback.print_exc()

    # --------------------------------------------------------------- loop

    def _loop(self, wake_r: int) -> None:
        drain_deadline: float | None = None
        while self.out or self.exit is None:
            rlist: list[int] = [wake_r, self.listener.fileno(), *self.out,
                                *(fd for fd, c in self.clients.items() if not self._backlogged(c))]
            for ex in self.execs.values():
                rlist += ex.out
            if self.chan_open:
                rlist.append(self.chan.sock.fileno())
            wlist = [s.fd for s in self._sinks() if s.buf and not s.closed]
            timeout = None if drain_deadline is None else max(0.0, drain_deadline - time.monotonic())
            ready, writable, _ = select.select(rlist, wlist, [], timeout)
            for sink in self._sinks():
                if sink.fd in writable:
                    sink.flush()
            if not ready and drain_deadline is not None:
                for fd in list(self.out):  # orphans still hold the pipes: stop waiting for them
                    self._close_output(fd)
                continue
            for fd in ready:
                if fd == wake_r:
                    _drain(wake_r)
                    self._reap()
                    if self.exit is not None and drain_deadline is None:
                        drain_deadline = time.monotonic() + DRAIN_GRACE
                elif fd == self.listener.fileno():
                    self._accept()
                elif self.chan_open and fd == self.chan.sock.fileno():
                    self._on_chan()
                elif fd in self.out:
                    self._on_output(fd)
                elif fd in self.clients:
                    self._on_client(self.clients[fd])
                else:
                    self._on_exec_output(fd)
            if self.handover_pending:  # between requests: nothing half-handled (else: again next round)
                self.handover_pending = handover.hand_over(self)
        self._finish()

    def _sinks(self) -> list[_Sink]:
        sinks = [ex.stdin for ex in self.execs.values() if ex.stdin is not None]
        return sinks + [self.stdin] if self.stdin is not None else sinks

    def _backlogged(self, client: _Client) -> bool:
        sink = client.exec.stdin if client.exec is not None else self.stdin
        return sink is not None and len(sink.buf) > SINK_HIGH_WATER

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.init_pid and self.exit is None:
                # OOMKilled as Docker: the OOM killer took any process of the cgroup
                self.exit = st.exit_status_from_wait(status, time.time_ns(), self.cgroup.oom_kills() > 0)
                continue
            for ex in self.execs.values():
                if ex.pid == pid and ex.exit is None:
                    ex.exit = st.exit_status_from_wait(status, time.time_ns())
                    self._exec_done(ex)
                    break

    def _accept(self) -> None:
        try:
            sock, _ = self.listener.accept()
        except BlockingIOError:
            return
        sock.setblocking(True)
        self.clients[sock.fileno()] = _Client(sock)

    def _drop(self, client: _Client) -> None:
        self.clients.pop(client.sock.fileno(), None)
        client.sock.close()
        if self.pending_start is client:
            self.pending_start = None

    def _on_client(self, client: _Client) -> None:
        try:
            data = client.sock.recv(65536)
            msgs = client.decoder.feed(data) if data else []
        except (OSError, m.ProtocolError):
            data, msgs = b"", []
        if not data:
            self._drop(client)
            return
        for msg in msgs:
            self._handle(client, msg)

    def _handle(self, client: _Client, msg: m.Message) -> None:
        running = self.exit is None
        if isinstance(msg, m.Attach):
            client.attached = True
        elif isinstance(msg, m.Wait):
            client.waiting = True
        elif isinstance(msg, m.Input):
            sink = client.exec.stdin if client.exec is not None else self.stdin
            if sink is not None:
                sink.write(msg.data)
        elif isinstance(msg, m.CloseStdin):
            sink = client.exec.stdin if client.exec is not None else self.stdin
            if sink is not None and not (sink.fd == self.master or (client.exec and sink.fd == client.exec.master)):
                sink.close()  # a pty has no EOF to give: its input just stops
        elif isinstance(msg, m.Resize):
            master = self.master if not msg.exec_id else getattr(self.execs.get(msg.exec_id), "master", -1)
            try:
                if master < 0:
                    raise OSError("no terminal to resize")
                ttys.set_winsize(master, msg.rows, msg.cols)
                client.send(m.Ok())
            except OSError as exc:
                client.send(m.Failed(str(exc), step="resize"))
        elif isinstance(msg, m.Exec):
            self._exec(client, msg)
        elif isinstance(msg, m.State):
            status = "stopped" if not running else ("running" if st.is_started(self.state_dir) else "created")
            client.send(m.StateReply(status, self.init_pid))
        elif isinstance(msg, m.Kill):
            if not running:
                client.send(m.Failed("container is not running", step="kill"))
                return
            try:
                os.kill(self.init_pid, msg.signal)
                client.send(m.Ok())
            except OSError as exc:
                client.send(m.Failed(str(exc), step="kill"))
        elif isinstance(msg, m.Start):
            if st.is_started(self.state_dir) or not running or self.pending_start is not None:
                client.send(m.Failed("container cannot be started in its current state", step="start"))
                return
            st.mark_started(self.state_dir)
            self.pending_start = client
            try:
                self.chan.send(m.Start())
            except OSError:
                pass  # init died meanwhile: the chan EOF answers the request
        else:
            client.send(m.Failed(f"unexpected request {msg.type}", step="protocol"))

    def _on_chan(self) -> None:
        """The exec result: Failed from init, or EOF when execve closed the CLOEXEC channel."""
        try:
            msg = self.chan.recv()
        except (OSError, m.ProtocolError):
            msg = None
        if msg is not None and not isinstance(msg, m.Failed):
            return
        if self.pending_start is not None:
            self.pending_start.send(msg if msg is not None else m.Ok())
            self.pending_start = None
        if msg is None:
            self.chan.close()
            self.chan_open = False
            self.handover_pending = True  # the process runs: the native monitor takes over (_loop)

    def _on_output(self, fd: int) -> None:
        try:
            data = os.read(fd, 65536)
        except OSError as exc:
            if exc.errno == errno.EAGAIN:
                return
            data = b""  # EIO from a pty master: every slave fd is closed
        if not data:
            self._close_output(fd)
            return
        stream = self.out[fd]
        self.log.write(self.encoder.feed(stream, data))
        for client in list(self.clients.values()):
            if client.attached and not client.send(m.Output(stream, data)):
                self._drop(client)

    # --------------------------------------------------------------- exec

    def _exec(self, client: _Client, req: m.Exec) -> None:
        if self.exit is not None or not st.is_started(self.state_dir) or req.exec_id in self.execs:
            client.send(m.Failed("container is not running", step="state"))  # step: the kind, for ShimRuntime
            return
        try:  # parsed here on the first exec: the shim does not keep the spec from create
            spec, bpf = self.spec, self.bpf
        except (OSError, ValueError, _CreateFailed) as exc:
            client.send(m.Failed(f"cannot read the container's spec: {exc}", step="exec"))
            return
        run = start_exec(spec, bpf, self.init_pid, self.cgroup, req, [self.listener.fileno()])
        if isinstance(run, m.Failed):
            client.send(run)
            return
        ex = _Exec(req, client)
        ex.pid, ex.out, ex.master = run.pid, run.out, run.master
        if run.stdin_fd >= 0:
            ex.stdin = _Sink(run.stdin_fd, owns_fd=run.stdin_fd != run.master)
        self.execs[req.exec_id] = ex
        client.exec = ex
        client.send(m.ExecStarted(ex.pid))

    def _on_exec_output(self, fd: int) -> None:
        ex = next((e for e in self.execs.values() if fd in e.out), None)
        if ex is None:
            return
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:  # EIO: the pty's last slave fd closed
            data = b""
        if not data:
            ex.out.pop(fd)
            os.close(fd)
            if fd == ex.master:  # the master doubled as output and stdin: closed here, once
                ex.master = -1
                if ex.stdin is not None:
                    ex.stdin.closed = True
            self._exec_done(ex)
            return
        if ex.client is not None and not ex.client.send(m.Output(ex.out[fd], data)):
            ex.client = None  # the requester left; the process runs on, its output is dropped

    def _exec_done(self, ex: _Exec) -> None:
        """Once the process is reaped and its output drained: Exited to the requester, forget it."""
        if ex.exit is None or ex.out:
            return
        if ex.stdin is not None:
            ex.stdin._close_now()
        if ex.master >= 0:
            os.close(ex.master)
            ex.master = -1
        self.execs.pop(ex.req.exec_id, None)
        if ex.client is not None:
            ex.client.send(m.Exited(ex.exit.code, ex.exit.finished_at_ns, ex.exit.signal))
            ex.client.exec = None

    def _close_output(self, fd: int) -> None:
        stream = self.out.pop(fd)
        self.log.write(self.encoder.close(stream))
        if self.stdin is not None and self.stdin.fd == fd:
            self.stdin.closed = True  # the pty master doubles as stdin: closed here, once
        os.close(fd)
        if fd == self.master:
            self.master = -1

    @property
    def encoder(self) -> LogEncoder:
        """The log driver's own encoder (json-file lines or local frames): stored as it makes them."""
        if not hasattr(self, "_encoder"):
            self._encoder = self.log.encoder()
        return self._encoder

    def _finish(self) -> None:
        assert self.exit is not None
        st.write_exit(self.state_dir, self.exit)  # before anyone hears of it: state() must agree
        exited = m.Exited(self.exit.code, self.exit.finished_at_ns, self.exit.signal, self.exit.oom_killed)
        while self.pending_start is not None and self.chan_open:
            self._on_chan()  # init is gone: the channel holds its exec result, then EOF
        deadline = time.monotonic() + 2  # the pid namespace died with init: reap its execs
        while any(ex.exit is None for ex in self.execs.values()) and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.002)
        for ex in list(self.execs.values()):
            for fd in list(ex.out):
                os.close(ex.out.pop(fd))
            if ex.exit is None:
                ex.exit = ExitStatus(137, time.time_ns(), signal.SIGKILL)
            self._exec_done(ex)
        if self.stdin is not None:
            self.stdin._close_now()
        self.listener.close()
        try:
            os.unlink(self.state_dir / st.SOCKET_FILE)
        except FileNotFoundError:
            pass
        for client in list(self.clients.values()):
            if client.attached or client.waiting:
                client.send(exited)
            client.sock.close()
        self.log.close()


def _failure(msg: m.Message | None) -> _CreateFailed:
    if isinstance(msg, m.Failed):
        return _CreateFailed(msg.step or "init", msg.message)
    return _CreateFailed("init", f"init exited before it was ready (got {msg!r})")


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _reap_any() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data):]


def _send_quietly(sock: socket.socket, msg: m.Message) -> None:
    try:
        sock.sendall(m.encode(msg))
    except OSError:
        pass
