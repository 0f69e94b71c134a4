"""The shim creates its container from a short-lived child, so that the shim itself stays small.

Why: a forked Python process keeps a private copy of every heap page it writes, for its whole
life (`bench/memory_bench.py` measures that per-container cost).  Creating a container runs a
lot of Python — spec parsing, cgroup setup, the seccomp cache, the launch fork — whose writes
are scattered over pages the shim shares with the spawn helper.  Done in a child that exits,
those copies die with it; the shim itself then only runs its select loop.

The init is still the shim's child: the shim is a subreaper, and the creating child is not
(``PR_SET_CHILD_SUBREAPER`` is not inherited by fork), so when the launcher's intermediate exits
the init is reparented to the shim.  Hand-off: one datagram on a SOCK_SEQPACKET pair, a JSON
object with SCM_RIGHTS (the child's end is closed in the init's processes, so a child that dies
without a word reads as EOF)::

    {"ok": true, "init_pid": N, "streams": [1, 2], "pty": bool, "stdin": bool, "annotations": {...},
     "cgroup_dirs": [...]}
        fds: the init channel, one per stream (a pty master: once, as stream 1), the stdin pipe if any
    {"ok": false, "step": S, "message": M, "init_pid": N}
"""

from __future__ import annotations

import json
import os
import socket
import traceback
from typing import Any

from dockyard.runtime import messages as m
from dockyard.runtime.sys.linux import quiet_fork

_MAX_REPLY = 1 << 20


class CreateFailed(Exception):
    def __init__(self, step: str, message: str) -> None:
        super().__init__(message)
        self.step = step
        self.message = message


def create_in_child(shim: Any) -> int:
    """Run ``shim._create()`` in a child; adopt its init, channel and stdio fds into ``shim``.

    Raises CreateFailed (with ``shim.init_pid`` set when the init was started) for the shim's
    usual cleanup; afterwards ``shim.annotations`` holds the spec's annotations.  Returns the
    child's pid: on success it exits on its own and is left for the caller to reap.
    """
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = quiet_fork()  # the shim is single-threaded: CPython's at-fork hooks have nothing to repair
    if pid == 0:
        code = 1
        try:
            ours.close()
            code = _child(shim, theirs)
        finally:
            os._exit(code)
    theirs.close()
    try:
        data, fds, _, _ = socket.recv_fds(ours, _MAX_REPLY, 8)
    finally:
        ours.close()
    reply: dict[str, Any]
    try:
        reply = json.loads(data) if data else {"ok": False, "step": "shim", "message": "create child died"}
    except ValueError:
        reply = {"ok": False, "step": "shim", "message": "create child sent a bad report"}
    shim.init_pid = int(reply.get("init_pid") or 0)
    if not reply.get("ok"):
        _reap(pid)
        for fd in fds:
            os.close(fd)
        raise CreateFailed(reply.get("step") or "shim", reply.get("message") or "create failed")
    _adopt(shim, reply, fds)
    return pid  # not waited for while it unmaps itself: the shim's loop reaps it on SIGCHLD


def _child(shim: Any, sock: socket.socket) -> int:
    shim.close_fds = [*shim.close_fds, sock.fileno()]  # not inherited past the launcher's fork
    try:
        shim._create()
    except Exception as exc:
        if not isinstance(exc, CreateFailed):
            traceback.print_exc()  # into shim.log
            exc = CreateFailed("shim", f"{type(exc).__name__}: {exc}")
        sock.sendall(json.dumps({"ok": False, "step": exc.step, "message": exc.message,
                                 "init_pid": shim.init_pid}).encode())
        return 1
    streams = list(shim.out.values())
    fds = [shim.chan.sock.fileno(), *shim.out]
    pty = shim.master >= 0
    if shim.stdin is not None and not pty:
        fds.append(shim.stdin.fd)
    reply = {"ok": True, "init_pid": shim.init_pid, "streams": streams, "pty": pty, "stdin": shim.stdin is not None,
             "annotations": dict(shim.spec.annotations), "cgroup_dirs": [str(d) for d in shim.cgroup.dirs.values()]}
    socket.send_fds(sock, [json.dumps(reply).encode()], fds)
    return 0


def _adopt(shim: Any, reply: dict, fds: list[int]) -> None:
    from dockyard.runtime.shim import _Sink  # the shim imports us: no cycle at import time

    chan, rest = fds[0], fds[1:]
    shim.chan = m.Channel(socket.socket(fileno=chan))
    streams = reply["streams"]
    shim.out = dict(zip(rest, streams))
    if reply["pty"]:  # already non-blocking: the flag belongs to the open file, which we share
        shim.master = rest[0]
        if reply["stdin"]:
            shim.stdin = _Sink(shim.master, owns_fd=False)
    elif reply["stdin"]:
        shim.stdin = _Sink(rest[len(streams)])
    shim.annotations = reply["annotations"]
    shim.cgroup_dirs = tuple(reply["cgroup_dirs"])


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
