"""Exec: one more process inside a running container, forked by its shim.

::

    shim ──fork──► middle: setns every namespace of the init
                   (/proc/<init>/ns/*, mount last), fork, move the process into the
                   container's cgroup, tell it "go"
                        └──fork──► process (in the container's pid ns): non-dumpable,
                                   stdio (pipes, or a pty from the container's devpts),
                                   init.py steps 13-16 with the container's rlimits,
                                   no-new-privs, capabilities and seccomp, wait for
                                   "go" (it is then in the cgroup), then execve
                   middle sends Pid(process) and exits; the shim (a child subreaper)
                   inherits the process, reaps it and records its exit status.

Why in the shim: it already owns the container's cgroup, spec and compiled
seccomp filter, is single-threaded (fork is safe; the daemon is not) and
reaps children, so the exit status is its by construction, as for the init.
The process sees the container's view of everything: ``/proc/<init>/ns``
names the namespaces even when the spec joined some by path (``--network
container:x``).  ``--privileged`` gives every capability, and keeps the
container's seccomp filter (as runc applies it to every exec).
"""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import traceback
from typing import Sequence

from dockyard.oci.runtime import (NS_CGROUP, NS_IPC, NS_MOUNT, NS_NETWORK, NS_PID, NS_USER, NS_UTS,
                                  Capabilities, Process, Spec, User)
from dockyard.runtime import capabilities
from dockyard.runtime import messages as m
from dockyard.runtime.cgroups import CgroupManager
from dockyard.runtime.init import StepError, exec_process, process_steps, run_steps
from dockyard.runtime.launcher import _RESET_SIGNALS, fork_reporting, hand_off_console, set_stdio
from dockyard.runtime.namespaces import FLAGS, JOIN_ORDER
from dockyard.runtime.sys.syscalls import Syscalls

# /proc/<pid>/ns/<name> for each OCI namespace type
PROC_NS = {NS_USER: "user", NS_IPC: "ipc", NS_UTS: "uts", NS_NETWORK: "net", NS_PID: "pid",
           NS_CGROUP: "cgroup", NS_MOUNT: "mnt"}


def exec_process_spec(base: Process, req: m.Exec) -> Process:
    """The container's process with the exec's command, env, cwd, user and terminal."""
    caps = base.capabilities
    if req.privileged:
        every = tuple(capabilities.NAMES[: capabilities.last_cap() + 1])
        caps = Capabilities(bounding=every, effective=every, permitted=every)
    return dataclasses.replace(
        base, args=tuple(req.args), env=tuple(req.env), cwd=req.cwd, terminal=req.tty,
        user=User(uid=req.uid, gid=req.gid, additional_gids=tuple(req.additional_gids)),
        capabilities=caps)


def join_paths(spec: Spec, init_pid: int) -> list[tuple[str, str]]:
    """(path, ns type) to setns, in namespaces.JOIN_ORDER (mount last): every type the spec has."""
    present = {n.type for n in spec.linux.namespaces}
    return [(f"/proc/{init_pid}/ns/{PROC_NS[t]}", t) for t in JOIN_ORDER if t in present]


def launch_exec(sys: Syscalls, spec: Spec, init_pid: int, cgroup: CgroupManager, req: m.Exec,
                stdio: tuple[int, int, int], chan: socket.socket, close_fds: Sequence[int],
                seccomp_bpf: bytes | None, go: int = -1) -> int:
    """Fork the middle process; returns its pid. The process's pid arrives as ``Pid`` on ``chan``,
    a pty master as ``Console`` + fd, a failure as ``Failed``; EOF means execve succeeded.

    With ``go`` (a pipe's read end; its write end belongs in ``close_fds``) the caller moves the
    process into the cgroup when ``Pid`` arrives and then writes one byte: the process runs its
    steps meanwhile and execs only after that byte (EOF: it exits without running anything).
    A cgroup v1 write waits for an RCU grace period (~10 ms when idle); this overlaps it with
    the process's own work.  Without ``go`` the middle joins the cgroup first."""
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        for sig in _RESET_SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        signal.set_wakeup_fd(-1)
        for fd in close_fds:
            try:
                os.close(fd)
            except OSError:
                pass
        code = _middle(sys, spec, init_pid, cgroup, req, stdio, chan, seccomp_bpf, go)
    except BaseException:
        _report(chan, m.Failed(traceback.format_exc(limit=3), step="exec"))
    finally:
        os._exit(code)


def _middle(sys: Syscalls, spec: Spec, init_pid: int, cgroup: CgroupManager, req: m.Exec,
            stdio: tuple[int, int, int], chan: socket.socket, seccomp_bpf: bytes | None, go: int = -1) -> int:
    try:
        if go < 0:
            cgroup.add_process(os.getpid())
        for path, ns_type in join_paths(spec, init_pid):
            sys.setns(path, FLAGS[ns_type])
    except OSError as exc:
        _report(chan, m.Failed(f"cannot join the container: {exc}", step="setns"))
        return 1
    return fork_reporting(chan, "exec", lambda: _process(sys, spec, req, stdio, chan, seccomp_bpf, go))


def _process(sys: Syscalls, spec: Spec, req: m.Exec, stdio: tuple[int, int, int], chan: socket.socket,
             seccomp_bpf: bytes | None, go: int = -1) -> int:
    proc = exec_process_spec(spec.process, req)
    exec_spec = dataclasses.replace(spec, process=proc)
    try:
        sys.set_dumpable(False)  # /proc/<pid>/exe is the host's python until execve (CVE-2019-5736)
        os.chdir("/")  # setns(mnt) leaves cwd on the shim's side: start from the container's root
        set_stdio(stdio)
        if req.tty:
            hand_off_console(sys, chan, req.uid, req.gid)
        run_steps(process_steps(sys, exec_spec, proc, seccomp_bpf))
        if go >= 0 and os.read(go, 1) != b"1":
            return 1  # not moved into the container's cgroup: the shim reports why
        exec_process(sys, exec_spec)  # returns only by raising
    except StepError as exc:
        _report(chan, m.Failed(exc.message, step=exc.step, exit_code=exc.exit_code))
        return exc.exit_code or 126
    except OSError as exc:
        _report(chan, m.Failed(str(exc), step="exec", exit_code=126))
        return 126
    return 126


def _report(chan: socket.socket, msg: m.Message) -> None:
    try:
        chan.sendall(m.encode(msg))
    except OSError:
        pass
