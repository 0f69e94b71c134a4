"""Starting an exec process and waiting for its verdict: shared by the Python shim
(runtime/shim.py) and the native monitor's exec helper (runtime/exechelper.py).

``start_exec`` makes the stdio pipes (or receives the pty master), forks the
middle (runtime/exec.py's ``launch_exec``), moves the process into the
container's cgroup when its ``Pid`` arrives, and returns once execve closed the
channel (``Running``) or a step failed (``Failed``).  The caller is a child
subreaper: it inherits the process and reaps it.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from typing import Sequence

from dockyard.oci.runtime import Spec
from dockyard.runtime import messages as m
from dockyard.runtime.cgroups import CgroupManager
from dockyard.runtime.exec import launch_exec
from dockyard.runtime.sys.linux import LinuxSyscalls

EXEC_TIMEOUT = 10.0  # for an exec process to report its pid and exec result


@dataclass
class Running:
    pid: int
    out: dict[int, int] = field(default_factory=dict)  # fd -> stream (1 stdout, 2 stderr)
    stdin_fd: int = -1  # a pipe's write end (owned), or the pty master with tty + stdin
    master: int = -1  # pty master with tty (also in ``out``)


def start_exec(spec: Spec, bpf: bytes | None, init_pid: int, cgroup: CgroupManager, req: m.Exec,
               close_fds: Sequence[int]) -> Running | m.Failed:
    pipes: list[tuple[int, int]] = []
    if not req.tty:
        pipes = [os.pipe(), os.pipe()]
        if req.stdin:
            pipes.append(os.pipe())
    stdio = (pipes[2][0] if len(pipes) > 2 else -1,
             pipes[0][1] if pipes else -1, pipes[1][1] if pipes else -1)
    parent, child = socket.socketpair()
    go_r, go_w = os.pipe()  # "you are in the cgroup": see launch_exec
    try:
        middle = launch_exec(LinuxSyscalls(), spec, init_pid, cgroup, req, stdio, child,
                             [*close_fds, go_w], bpf, go_r)
    except OSError as exc:
        for r, w in [*pipes, (go_r, go_w)]:
            os.close(r)
            os.close(w)
        parent.close()
        child.close()
        return m.Failed(f"fork: {exc}", step="exec")
    child.close()
    os.close(go_r)
    for fd in stdio:
        if fd >= 0:
            os.close(fd)
    run = Running(0)
    if pipes:
        run.out = {pipes[0][0]: 1, pipes[1][0]: 2}
        if req.stdin:
            run.stdin_fd = pipes[2][1]
    chan = m.Channel(parent)
    parent.settimeout(EXEC_TIMEOUT)
    failure: m.Failed | None = None
    try:
        while True:
            msg = chan.recv()
            if msg is None:
                break  # execve closed the CLOEXEC channel: running
            if isinstance(msg, m.Pid):
                run.pid = msg.pid
                try:  # moved in while it runs its steps, then told to go on (launch_exec)
                    cgroup.add_process(msg.pid)
                    os.write(go_w, b"1")
                except OSError as exc:
                    failure = m.Failed(f"cannot join the container's cgroup: {exc}", step="exec")
                os.close(go_w)  # after a failure: EOF, the process exits without running anything
                go_w = -1
            elif isinstance(msg, m.Console) and chan.fds:
                run.master = chan.fds.pop(0)
                os.set_blocking(run.master, False)
                run.out = {run.master: 1}
                if req.stdin:
                    run.stdin_fd = run.master
            elif isinstance(msg, m.Failed):
                failure = msg
    except (OSError, m.ProtocolError) as exc:
        failure = m.Failed(f"exec did not report: {exc}", step="exec")
    finally:
        chan.close()
        if go_w >= 0:
            os.close(go_w)
        try:
            os.waitpid(middle, 0)
        except ChildProcessError:
            pass
    if failure is not None or not run.pid:
        discard(run)
        return failure or m.Failed("exec process did not start", step="exec")
    return run


def discard(run: Running) -> None:
    for fd in run.out:
        os.close(fd)
    if run.stdin_fd >= 0 and run.stdin_fd != run.master:
        os.close(run.stdin_fd)
    run.out, run.stdin_fd, run.master = {}, -1, -1
