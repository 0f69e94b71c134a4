"""``ShimRuntime``: the daemon's ``core.runtime.Runtime``, talking to per-container shims.

Construction (daemon/wiring.py), before any thread exists::

    spawner = Spawner(); spawner.start()
    runtime = ShimRuntime(Path("/run/dockyard/runtime"), spawner)
    ...
    spawner.stop()        # at shutdown; shims and containers keep running

Directory layout under ``state_root`` is documented in ``runtime/state.py``
(plus ``cgroup.json``: the cgroup manager's directories, written here before
the shim exists so ``delete`` can always find the cgroup).  Every method but
``create`` works from those files and the shim socket alone, so a restarted
daemon picks up where the old one stopped.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import signal
import socket
import time
from pathlib import Path
from typing import Iterator, Sequence

from dockyard.core.mount import Mount
from dockyard.core.runtime import ExecSpec, ExitStatus, RuntimeState
from dockyard.errors import AlreadyExists, Conflict, InvalidArgument, NotFound, RuntimeFailure
from dockyard.oci.runtime import Resources, Spec, from_json
from dockyard.runtime import messages as m
from dockyard.runtime import state as st
from dockyard.runtime.cgroups import CgroupManager, cgroup_from_json, open_cgroup
from dockyard.runtime.cgroups import DEFAULT_ROOT as CGROUP_ROOT
from dockyard.runtime.monitor.route import native_exec_channel
from dockyard.runtime.spawner import Spawner
from dockyard.runtime.validate import validate

CGROUP_FILE = "cgroup.json"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
CREATE_TIMEOUT = 90.0


class ShimOutput:
    """``OutputStream`` over an attach connection: (stream, bytes) until Exited or EOF."""

    def __init__(self, chan: m.Channel | None) -> None:
        self._chan = chan
        self.exit: ExitStatus | None = None

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        chan = self._chan
        if chan is None:
            return
        try:
            while True:
                try:
                    msg = chan.recv()
                except (OSError, m.ProtocolError):
                    return
                if isinstance(msg, m.Output):
                    yield msg.stream, msg.data
                elif isinstance(msg, m.Exited):
                    self.exit = ExitStatus(msg.code, msg.finished_at_ns, msg.signal, msg.oom_killed)
                    return
                elif msg is None:
                    return
        finally:
            self.close()

    def close(self) -> None:
        chan, self._chan = self._chan, None
        if chan is not None:
            try:
                chan.sock.shutdown(socket.SHUT_RDWR)  # wakes a reader blocked in another thread
            except OSError:
                pass
            chan.close()


class ShimInput:
    """``InputStream`` over a shim connection: Input frames, CloseStdin."""

    def __init__(self, chan: m.Channel) -> None:
        self._chan: m.Channel | None = chan

    def write(self, data: bytes) -> None:
        chan = self._chan
        if chan is not None and data:
            try:
                chan.send(m.Input(data))
            except OSError:
                pass  # the container is gone; its exit is reported elsewhere

    def close_stdin(self) -> None:
        chan = self._chan
        if chan is not None:
            try:
                chan.send(m.CloseStdin())
            except OSError:
                pass

    def close(self) -> None:
        chan, self._chan = self._chan, None
        if chan is not None:
            chan.close()


class ShimExec(ShimOutput):
    """``ExecProcess``: the Exec connection carries output and Exited one way, Input the other."""

    def __init__(self, chan: m.Channel, pid: int) -> None:
        super().__init__(chan)
        self.pid = pid
        self._input = ShimInput(chan)

    def write(self, data: bytes) -> None:
        self._input.write(data)

    def close_stdin(self) -> None:
        self._input.close_stdin()


class ShimRuntime:
    def __init__(self, state_root: Path, spawner: Spawner, *, cgroup_root: Path = CGROUP_ROOT,
                 nest_cgroups: bool = True) -> None:
        self.state_root = Path(state_root)
        self.spawner = spawner
        self.cgroup_root = cgroup_root
        self.nest_cgroups = nest_cgroups
        self.state_root.mkdir(parents=True, exist_ok=True, mode=0o711)

    def _dir(self, container_id: str) -> Path:
        if not _ID.match(container_id):
            raise InvalidArgument(f"invalid container id {container_id!r}")
        return self.state_root / container_id

    # ------------------------------------------------------------ create

    def create(self, container_id: str, bundle: Path, rootfs: Sequence[Mount], log_path: Path,
               *, stdin: bool = False) -> RuntimeState:
        state_dir = self._dir(container_id)
        spec = _load_spec(bundle)
        try:
            validate(spec)  # before the first side effect
        except InvalidArgument as exc:
            raise RuntimeFailure(str(exc), step="validate") from exc
        cgroup = open_cgroup(spec.linux.cgroups_path or f"/dockyard/{container_id}", self.cgroup_root,
                             nest_under_own=self.nest_cgroups)
        try:
            state_dir.mkdir(mode=0o700)
        except FileExistsError:
            raise AlreadyExists(f"container {container_id} already exists in the runtime") from None
        st.write_atomic(state_dir / CGROUP_FILE, json.dumps(cgroup.to_json()).encode())
        ours, theirs = socket.socketpair()
        try:
            req = m.Spawn(container_id, str(Path(bundle).absolute()), [x.to_json() for x in rootfs],
                          str(Path(log_path).absolute()), str(state_dir.absolute()), stdin=stdin)
            try:
                self.spawner.spawn(req, theirs.fileno())
            finally:
                theirs.close()
            ours.settimeout(CREATE_TIMEOUT)
            chan = m.Channel(ours)
            try:
                reply = chan.recv()
            except (OSError, m.ProtocolError) as exc:
                reply = m.Failed(f"no answer from the shim: {exc}", step="create")
            if isinstance(reply, m.Created):
                return RuntimeState(container_id, "created", reply.pid)
            failure = reply if isinstance(reply, m.Failed) else m.Failed("shim exited during create", "create")
            _wait_eof(ours, 10.0)  # the shim closes the report socket when it exits
        except BaseException:
            self._remove(container_id, cgroup)
            raise
        finally:
            ours.close()
        self._remove(container_id, cgroup)
        raise RuntimeFailure(f"{failure.step}: {failure.message}".strip(": "), step=failure.step)

    # ----------------------------------------------------------- control

    def _connect(self, container_id: str) -> m.Channel | None:
        """A channel to the shim, or None when it is gone (the container has stopped)."""
        state_dir = self._dir(container_id)
        if not state_dir.is_dir():
            raise NotFound(f"no such container in the runtime: {container_id}")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            st.unix_socket_op(sock.connect, state_dir, st.SOCKET_FILE)
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            return None
        return m.Channel(sock)

    def _request(self, container_id: str, msg: m.Message) -> m.Message | None:
        chan = self._connect(container_id)
        if chan is None:
            return None
        try:
            chan.send(msg)
            return chan.recv()
        except (OSError, m.ProtocolError):
            return None
        finally:
            chan.close()

    def attach(self, container_id: str) -> ShimOutput:
        chan = self._connect(container_id)
        if chan is not None:
            try:
                chan.send(m.Attach())
            except OSError:
                chan.close()
                chan = None
        return ShimOutput(chan)

    def open_stdin(self, container_id: str) -> ShimInput:
        chan = self._connect(container_id)
        if chan is None:
            raise Conflict(f"container {container_id} is not running")
        return ShimInput(chan)

    def resize(self, container_id: str, rows: int, cols: int, exec_id: str = "") -> None:
        reply = self._request(container_id, m.Resize(rows, cols, exec_id))
        if isinstance(reply, m.Failed):
            raise RuntimeFailure(reply.message, step="resize")
        if not isinstance(reply, m.Ok):
            raise Conflict(f"container {container_id} is not running")

    def exec(self, container_id: str, spec: ExecSpec) -> ShimExec:
        chan = native_exec_channel(self.spawner, self._dir(container_id)) or self._connect(container_id)
        if chan is None:
            raise Conflict(f"container {container_id} is not running")
        req = m.Exec(spec.exec_id, list(spec.args), list(spec.env), spec.cwd, spec.uid, spec.gid,
                     list(spec.additional_gids), tty=spec.tty, stdin=spec.stdin, privileged=spec.privileged)
        try:
            chan.send(req)
            reply = chan.recv()
        except (OSError, m.ProtocolError):
            reply = None
        if isinstance(reply, m.ExecStarted):
            return ShimExec(chan, reply.pid)
        chan.close()
        if isinstance(reply, m.Failed) and reply.step != "state":
            raise RuntimeFailure(reply.message, step=reply.step or "exec", exit_code=reply.exit_code)
        raise Conflict(f"container {container_id} is not running")

    def start(self, container_id: str) -> None:
        reply = self._request(container_id, m.Start())
        if isinstance(reply, m.Ok):
            return
        if isinstance(reply, m.Failed):
            raise RuntimeFailure(reply.message, step=reply.step, exit_code=reply.exit_code)
        raise Conflict(f"container {container_id} is not running")

    def kill(self, container_id: str, signal: int) -> None:
        reply = self._request(container_id, m.Kill(int(signal)))
        if isinstance(reply, m.Ok):
            return
        raise Conflict(f"container {container_id} is not running")

    def wait(self, container_id: str, timeout: float | None = None) -> ExitStatus | None:
        state_dir = self._dir(container_id)
        status = st.read_exit(state_dir)
        if status is not None:
            return status
        chan = self._connect(container_id)
        if chan is None:
            return self._lost_exit(container_id)
        try:
            chan.sock.settimeout(timeout)
            chan.send(m.Wait())
            reply = chan.recv()
        except TimeoutError:
            return None
        except (OSError, m.ProtocolError):
            reply = None
        finally:
            chan.close()
        if isinstance(reply, m.Exited):
            return ExitStatus(reply.code, reply.finished_at_ns, reply.signal, reply.oom_killed)
        return self._lost_exit(container_id)

    # ------------------------------------------------- cgroup operations

    def _cgroup(self, container_id: str) -> CgroupManager:
        state_dir = self._dir(container_id)
        try:
            return cgroup_from_json(json.loads((state_dir / CGROUP_FILE).read_text()))
        except FileNotFoundError:
            raise NotFound(f"no such container in the runtime: {container_id}") from None

    def pause(self, container_id: str) -> None:
        """Freeze every process of the container (cgroup freezer)."""
        self._cgroup(container_id).freeze()

    def resume(self, container_id: str) -> None:
        self._cgroup(container_id).thaw()

    def pids(self, container_id: str) -> list[int]:
        """Host pids of every process in the container's cgroup (for ``top``)."""
        return self._cgroup(container_id).pids()

    def cgroup_sample(self, container_id: str) -> object:
        """The cgroup's usage counters (``runtime.cgroups.stats.Sample``, for ``stats``)."""
        from dockyard.runtime.cgroups.stats import sample

        return sample(self._cgroup(container_id))

    def update(self, container_id: str, resources: Resources) -> None:
        """Apply new limits to a live container's cgroup."""
        try:
            self._cgroup(container_id).apply(resources)
        except OSError as exc:
            raise RuntimeFailure(f"cannot update cgroup: {exc.strerror or exc}", step="update") from exc

    def _lost_exit(self, container_id: str) -> ExitStatus:
        """The shim is gone: its exit file, or (shim crashed) Docker's 255 for an unknown end."""
        status = st.read_exit(self._dir(container_id))
        return status if status is not None else ExitStatus(255, time.time_ns())

    def state(self, container_id: str) -> RuntimeState:
        state_dir = self._dir(container_id)
        if not state_dir.is_dir():
            raise NotFound(f"no such container in the runtime: {container_id}")
        record = st.read_record(state_dir)
        pid = record.pid if record else 0
        status = st.read_exit(state_dir)
        if status is not None:
            return RuntimeState(container_id, "stopped", pid, status)
        if record is None:
            return RuntimeState(container_id, "creating", 0)
        if not st.pid_alive(record.shim_pid):
            return RuntimeState(container_id, "stopped", pid, self._lost_exit(container_id))
        return RuntimeState(container_id, "running" if st.is_started(state_dir) else "created", pid)

    def list(self) -> list[str]:
        return sorted(p.name for p in self.state_root.iterdir() if p.is_dir() and _ID.match(p.name))

    def release_cgroup_parent(self, parent: str) -> None:
        """Remove the (empty) parent cgroup dirs of our containers, e.g. at
        daemon shutdown. Non-empty ones stay: a container still lives there."""
        mgr = open_cgroup(parent, self.cgroup_root, nest_under_own=self.nest_cgroups)
        for d in mgr.dirs.values():
            try:
                os.rmdir(d)
            except OSError:
                pass

    # ------------------------------------------------------------ delete

    def delete(self, container_id: str) -> None:
        state_dir = self._dir(container_id)
        if not state_dir.is_dir():
            return
        try:
            cgroup: CgroupManager | None = cgroup_from_json(json.loads((state_dir / CGROUP_FILE).read_text()))
        except FileNotFoundError:
            cgroup = None
        self._remove(container_id, cgroup)

    def _remove(self, container_id: str, cgroup: CgroupManager | None) -> None:
        """SIGKILL what is left, wait for the shim, remove the cgroup and the state dir."""
        state_dir = self._dir(container_id)
        record = st.read_record(state_dir)
        deadline = time.monotonic() + 10
        if cgroup is not None:
            try:
                cgroup.thaw()  # frozen tasks would not die of SIGKILL on v1
            except (OSError, RuntimeFailure):
                pass
            while cgroup.pids() and time.monotonic() < deadline:
                cgroup.kill(signal.SIGKILL)
                time.sleep(0.002)
        if record is not None and (state_dir / st.SOCKET_FILE).exists():
            # Only while its socket exists is shim_pid surely still our shim (no pid-reuse kill).
            _wait_pid_gone(record.shim_pid, max(0.1, deadline - time.monotonic()))
        if cgroup is not None:
            try:
                cgroup.destroy()
            except OSError as exc:
                raise RuntimeFailure(f"cannot remove cgroup: {exc}", step="delete") from exc
        shutil.rmtree(state_dir, ignore_errors=True)


def _load_spec(bundle: Path) -> Spec:
    try:
        return from_json(json.loads((Path(bundle) / "config.json").read_text()))
    except FileNotFoundError as exc:
        raise RuntimeFailure(f"bundle {bundle} has no config.json", step="bundle") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise RuntimeFailure(f"bundle {bundle}: invalid config.json: {exc}", step="bundle") from exc


def _wait_eof(sock: socket.socket, timeout: float) -> None:
    sock.settimeout(timeout)
    try:
        while sock.recv(4096):
            pass
    except OSError:
        pass


def _wait_pid_gone(pid: int, timeout: float) -> None:
    """Wait for a process that is not our child (the shim) to exit; never signal it by pid."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        select.select([fd], [], [], timeout)
    finally:
        os.close(fd)
