"""Shim side of init creation: the fork chain that makes pid 1 of the container.

::

    shim ──fork──► intermediate: join cgroup, setns/unshare namespaces
                        └──fork──► init (pid 1 in the new pid ns): init.py steps
                   intermediate sends Pid(init) and exits; the shim, a child
                   subreaper, inherits init and reaps it.

Everything after a fork in the children ends in ``os._exit``: a child must
never return into the shim's select loop.  Failures are reported on the
init channel as ``Failed(step, message, exit_code)``.

stdio of the init: ``stdin_r`` (a pipe from the shim, OpenStdin) or
/dev/null; the stdout/stderr pipes; or, with ``process.terminal``, a pty
made in step 10b whose master travels to the shim as ``Console`` + fd.
"""

from __future__ import annotations

import os
import signal
import socket
import traceback
from pathlib import Path
from typing import Callable, Sequence

from dockyard.core.mount import Mount as RootfsMount
from dockyard.oci.runtime import Spec
from dockyard.runtime import messages as m
from dockyard.runtime.cgroups import CgroupManager
from dockyard.runtime.init import StepError, exec_process, run_steps, setup_steps
from dockyard.runtime import userns_launch
from dockyard.runtime.namespaces import enter
from dockyard.runtime.sys.linux import quiet_fork
from dockyard.runtime.sys.syscalls import MountFlag, Syscalls

# Python ignores these; exec keeps ignored dispositions, so restore defaults.
_RESET_SIGNALS = (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGCHLD, signal.SIGINT, signal.SIGTERM)


def launch(sys: Syscalls, spec: Spec, bundle: Path, mounts: Sequence[RootfsMount], cgroup: CgroupManager,
           stdout_w: int, stderr_w: int, chan: socket.socket, close_fds: Sequence[int],
           seccomp_bpf: bytes | None = None, stdin_r: int = -1) -> int:
    """Fork the intermediate; returns its pid (the init's pid arrives as ``Pid`` on ``chan``)."""
    pid = quiet_fork()  # from the single-threaded shim: see quiet_fork
    if pid:
        return pid
    code = 1
    try:
        for sig in _RESET_SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        signal.set_wakeup_fd(-1)
        for fd in close_fds:
            _close(fd)
        code = _intermediate(sys, spec, bundle, mounts, cgroup, (stdin_r, stdout_w, stderr_w), chan, seccomp_bpf)
    except BaseException:
        _report(chan, m.Failed(traceback.format_exc(limit=3), step="intermediate"))
    finally:
        os._exit(code)


def _intermediate(sys: Syscalls, spec: Spec, bundle: Path, mounts: Sequence[RootfsMount], cgroup: CgroupManager,
                  stdio: tuple[int, int, int], chan: socket.socket, seccomp_bpf: bytes | None) -> int:
    # Join the cgroup before unsharing: a cgroup ns (if any) is rooted where we stand.
    try:
        cgroup.add_process(os.getpid())
        if userns_launch.wants_userns(spec):  # rootfs mounted here, with host privileges
            spec = userns_launch.adapt_spec(spec)
            root = bundle / spec.root.path if not os.path.isabs(spec.root.path) else Path(spec.root.path)
            userns_launch.enter(sys, spec, str(root), mounts)
            mounts = ()  # the init's rootfs step only rebinds it
        else:
            enter(sys, spec)
    except OSError as exc:
        _report(chan, m.Failed(str(exc), step="namespaces"))
        return 1
    return fork_reporting(chan, "init", lambda: _init(sys, spec, bundle, mounts, stdio, chan, seccomp_bpf))


def _init(sys: Syscalls, spec: Spec, bundle: Path, mounts: Sequence[RootfsMount],
          stdio: tuple[int, int, int], chan: socket.socket, seccomp_bpf: bytes | None) -> int:
    set_stdio(stdio)
    console = None
    if spec.process.terminal:
        def console() -> None:
            hand_off_console(sys, chan, spec.process.user.uid, spec.process.user.gid, console_path="/dev/console")
    try:
        run_steps(setup_steps(sys, spec, bundle, mounts, seccomp_bpf, console))
    except StepError as exc:
        _report(chan, m.Failed(exc.message, step=exc.step))
        return 1
    ch = m.Channel(chan)
    ch.send(m.Ready())
    msg = ch.recv()  # blocks until ShimRuntime.start (or the shim dies: EOF)
    if not isinstance(msg, m.Start):
        return 1
    try:
        exec_process(sys, spec)  # on success never returns; chan is CLOEXEC and closes
    except StepError as exc:
        _report(chan, m.Failed(exc.message, step=exc.step, exit_code=exc.exit_code))
        return exc.exit_code or 1
    return 1


def set_stdio(stdio: tuple[int, int, int]) -> None:
    """dup2 the given fds onto 0, 1, 2; -1 means /dev/null. The originals are closed."""
    devnull = os.open("/dev/null", os.O_RDWR)
    for target, fd in enumerate(stdio):
        os.dup2(fd if fd >= 0 else devnull, target)
    for fd in {devnull, *stdio}:
        if fd > 2:
            os.close(fd)


def hand_off_console(sys: Syscalls, chan: socket.socket, uid: int, gid: int, console_path: str = "") -> None:
    """A pty from the container's devpts: master to the shim (``Console`` + SCM_RIGHTS); the
    slave, owned by the process's user as runc does, becomes the controlling terminal and
    stdio, and (for the init) is bind-mounted on /dev/console."""
    from dockyard.runtime import tty

    master, slave, path = tty.open_pty()
    try:
        os.fchown(slave, uid, gid)
        if console_path:
            os.close(os.open(console_path, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600))
            sys.mount(path, console_path, None, MountFlag.BIND)
        socket.send_fds(chan, [m.encode(m.Console())], [master])
    finally:
        os.close(master)
    tty.make_controlling(slave)


def _report(chan: socket.socket, msg: m.Message) -> None:
    try:
        chan.sendall(m.encode(msg))
    except OSError:
        pass


def fork_reporting(chan: socket.socket, step: str, run: "Callable[[], int]") -> int:
    """Fork the process-to-be (container init or exec'd process) running ``run``;
    a crash in it is reported on ``chan`` as a failure of ``step``, and the
    parent reports the child's pid. Shared by launch and exec."""
    child = quiet_fork()  # from a single-threaded intermediate: see quiet_fork
    if child == 0:
        code = 1
        try:
            code = run()
        except BaseException:
            _report(chan, m.Failed(traceback.format_exc(limit=3), step=step))
        finally:
            os._exit(code)
    _report(chan, m.Pid(child))
    return 0


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass
