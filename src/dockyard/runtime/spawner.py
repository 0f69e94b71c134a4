"""The spawn helper: a single-threaded process, forked before the daemon starts threads, that forks shims.

Why: forking a multi-threaded daemon is unsafe (locks held by other threads
stay locked in the child) and exec'ing a fresh Python per container costs
tens of milliseconds.  multiprocessing's forkserver idea: fork once, early,
with the runtime modules already imported; every shim is then a cheap fork
of this quiet process.

Protocol on the daemon<->helper socketpair (messages.py frames)::

    daemon -> helper   Spawn(...)  + SCM_RIGHTS [create report socket]
    helper -> daemon   Ok | Failed

The helper forks the shim, which calls setsid(): shims are never the daemon's
children and survive it.  The helper ignores SIGCHLD, so the kernel reaps a
shim that exits while the helper lives (no zombie, no wait); once the helper
is gone they are reparented like any orphan.  (A double fork would cost one
more fork on the create path and leave the intermediate's heap writes
private to each shim.)  The helper exits on EOF (daemon gone).
"""

from __future__ import annotations

import gc
import os
import signal
import socket
import threading
import traceback
from collections import OrderedDict
from pathlib import Path

from dockyard.runtime import messages as m
from dockyard.runtime.sys.linux import quiet_fork

# Imported here so every shim forked by the helper already has them loaded.
from dockyard.runtime import shim as _shim  # noqa: F401
from dockyard.runtime import exechelper as _exechelper
from dockyard.runtime import jsonlog as _jsonlog, locallog as _locallog  # noqa: F401  (LogWriter.encoder's)


class Spawner:
    """Handle on the spawn helper. ``start()`` before any thread; thread-safe afterwards."""

    def __init__(self) -> None:
        self._sock: socket.socket | None = None
        self._pid = 0
        self._lock = threading.Lock()

    @property
    def pid(self) -> int:
        return self._pid

    def start(self, *, allow_threads: bool = False) -> None:
        """Fork the helper. ``allow_threads`` is for test runners that own threads we cannot avoid."""
        if self._sock is not None:
            return
        if threading.active_count() > 1 and not allow_threads:
            raise RuntimeError("Spawner.start() must run before the daemon starts threads")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                ours.close()
                _serve(theirs)
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        theirs.close()
        self._sock, self._pid = ours, pid

    def stop(self) -> None:
        """Close the channel; the helper sees EOF and exits. Shims keep running."""
        with self._lock:
            if self._sock is None:
                return
            self._sock.close()
            self._sock = None
            try:
                os.waitpid(self._pid, 0)
            except ChildProcessError:
                pass
            self._pid = 0

    def spawn(self, request: m.Spawn | m.SpawnExec, report_fd: int) -> None:
        """Ask the helper to launch a shim; ``report_fd`` is handed to the shim for its create result
        (with ``SpawnExec``: an exec helper, and the connection it serves)."""
        with self._lock:
            if self._sock is None:
                raise RuntimeError("spawner is not running")
            socket.send_fds(self._sock, [m.encode(request)], [report_fd])
            reply = m.Channel(self._sock).recv()
        if isinstance(reply, m.Failed):
            raise OSError(reply.message)
        if not isinstance(reply, m.Ok):
            raise OSError(f"spawner answered {reply!r}")


def freeze_heap() -> None:
    """Keep the inherited heap's pages shared with every shim (CPython's advice for fork servers).

    A full collection walks every tracked object and writes its GC header, so one pass in a
    shim would copy nearly the whole inherited heap (measured: +8.5 MiB private per shim);
    frozen objects are never walked again.  Collection stays off in the helper, so that what it
    allocates between spawns is frozen at the next fork instead of walked.
    """
    gc.disable()
    gc.collect()
    gc.freeze()


def _serve(sock: socket.socket) -> None:
    """The helper's loop: one request at a time (the daemon side holds a lock)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C on the daemon's terminal is the daemon's business
    freeze_heap()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps our shims: no zombie, no wait
    decoder = m.Decoder()
    carried: list[int] = []  # fds received with frames not yet complete
    while True:
        data, fds, _, _ = socket.recv_fds(sock, 65536, 4)
        if not data:
            return
        carried += fds
        for msg in decoder.feed(data):
            if not isinstance(msg, (m.Spawn, m.SpawnExec)) or not carried:
                for fd in carried:
                    os.close(fd)
                carried.clear()
                sock.sendall(m.encode(m.Failed("bad spawn request", step="spawn")))
                continue
            report_fd = carried.pop(0)
            try:
                if isinstance(msg, m.SpawnExec):  # an exec helper (native monitor): report_fd is its connection
                    _fork_exec_helper(msg, report_fd, sock.fileno())
                else:
                    _fork_shim(msg, report_fd, sock.fileno())
                reply: m.Message = m.Ok()
            except OSError as exc:
                reply = m.Failed(str(exc), step="spawn")
            finally:
                os.close(report_fd)
            sock.sendall(m.encode(reply))


def _fork_shim(req: m.Spawn, report_fd: int, helper_fd: int) -> None:
    gc.freeze()  # what this loop allocated since, too: the shim must not walk it
    if quiet_fork() == 0:  # single-threaded here: see quiet_fork
        code = 1
        try:
            os.setsid()
            for sig in (signal.SIGINT, signal.SIGCHLD):
                signal.signal(sig, signal.SIG_DFL)
            gc.enable()  # collects only what the shim allocates from here on
            os.close(helper_fd)
            report = socket.socket(fileno=report_fd)
            code = _shim.main(req, report, [])
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)


class ContextCache:
    """Each container's parsed spec, cgroup and seccomp program (exechelper.ExecContext), for
    the exec helpers we fork: parsed once per container, not once per exec.  Keyed by the
    state dir and checked against the files' (inode, mtime, size), so a rewritten file is read
    again; the least recently used beyond ``size`` are dropped (removed containers age out)."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._entries: OrderedDict[str, tuple[tuple[tuple[int, int, int], ...], _exechelper.ExecContext]] = \
            OrderedDict()

    def get(self, bundle: Path, state_dir: Path) -> _exechelper.ExecContext | None:
        """None when the files cannot be read: the helper then reads them and reports why."""
        try:
            key = tuple(_stamp(p) for p in (bundle / "config.json", state_dir / "cgroup.json"))
            hit = self._entries.get(str(state_dir))
            if hit is not None and hit[0] == key:
                self._entries.move_to_end(str(state_dir))
                return hit[1]
            ctx = _exechelper.load_context(bundle, state_dir)
        except Exception:  # anything: the spawner must outlive a bad container
            return None
        self._entries[str(state_dir)] = (key, ctx)
        self._entries.move_to_end(str(state_dir))
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return ctx


def _stamp(path: Path) -> tuple[int, int, int]:
    st = os.stat(path)
    return st.st_ino, st.st_mtime_ns, st.st_size


_contexts = ContextCache()


def _fork_exec_helper(req: m.SpawnExec, conn_fd: int, helper_fd: int) -> None:
    """runtime/exechelper.py in a fork of ours (modules loaded: no interpreter start per exec),
    with the container's context parsed here once (``ContextCache``) instead of in every helper."""
    context = _contexts.get(Path(req.bundle), Path(req.state_dir))
    gc.freeze()
    if quiet_fork() == 0:
        code = 1
        try:
            os.setsid()
            for sig in (signal.SIGINT, signal.SIGCHLD):
                signal.signal(sig, signal.SIG_DFL)
            gc.enable()
            os.close(helper_fd)
            code = _exechelper.run_spawned(req, conn_fd, context)
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
