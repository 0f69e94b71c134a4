"""The Python shim becomes the native monitor: what it hands over, and when it may.

Once the container's process has exec'd (the init channel's EOF after
``Start``), ``hand_over`` execve's the shim's own pid into
``dockyard-monitor`` (dymon.c): it stays the init's parent and child
subreaper (PR_SET_CHILD_SUBREAPER survives execve) and keeps every fd it
needs: the listener, the output pipes or pty master, the stdin, the
connected clients (with their attach/wait flags), and the encoder's partial
lines.  Everything else (the Python heap, ~1.3 MiB private per shim) goes.

It declines, and the Python shim carries on, whenever something in flight
is not expressible on the command line or is a feature the monitor lacks:
the ``local`` driver, ``compress``, a running exec, a half-read request,
stdin bytes still buffered.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import dockyard
from dockyard.runtime import monitor
from dockyard.runtime.logrotate import COMPRESS, DRIVER


PYSRC = str(Path(dockyard.__file__).resolve().parent.parent)  # for the exec helper's sys.path


def supported(shim: Any) -> bool:
    """Whether the monitor can ever serve this container (else: no retry)."""
    ann = shim.annotations
    return (monitor.binary() is not None and ann.get(DRIVER, "json-file") in ("json-file", "none")
            and ann.get(COMPRESS) != "true")


def argv(shim: Any) -> list[str] | None:
    """The monitor's command line for this shim's state now, or None (not now: something is in flight)."""
    binary = monitor.binary()
    if binary is None or not supported(shim):
        return None
    if shim.exit is not None or shim.execs or shim.pending_start is not None or shim.chan_open:
        return None
    sink = shim.stdin
    if sink is not None and (sink.buf or sink.closing):
        return None
    clients = list(shim.clients.values())
    if any(c.exec is not None or c.decoder.pending for c in clients):
        return None
    out = {stream: fd for fd, stream in shim.out.items()}
    args = [str(binary), f"listen={shim.listener.fileno()}", f"init={shim.init_pid}",
            f"stdout={out.get(1, -1)}", f"stderr={out.get(2, -1)}", f"master={shim.master}",
            f"stdin={sink.fd if sink is not None and not sink.closed else -1}",
            f"log={shim.log.path}", f"driver={'json-file' if shim.log.enabled else 'none'}",
            f"max_size={shim.log.max_size}", f"max_file={shim.log.max_file}",
            f"state={shim.state_dir}", f"oom={oom_file(shim)}",
            f"python={sys.executable}", f"pysrc={PYSRC}", f"bundle={shim.req.bundle}"]
    args += [f"client={c.sock.fileno()}:{int(c.attached)}:{int(c.waiting)}" for c in clients]
    encoder = getattr(shim, "_encoder", None)
    for stream in (1, 2):
        if encoder is not None and (partial := bytes(encoder._split[stream]._buf)):
            args.append(f"partial{stream}={partial.hex()}")
    return args


def oom_file(shim: Any) -> str:
    """The file whose ``oom_kill`` counter says the OOM killer took a process (cgroup.oom_kills)."""
    cgroup = shim.cgroup
    if hasattr(cgroup, "_dir_for"):  # v1: the memory controller's directory
        d = cgroup._dir_for("memory")
        return "" if d is None else str(d / "memory.oom_control")
    return str(cgroup.path / "memory.events")


def hand_over(shim: Any) -> bool:
    """execve into the monitor.  Returns (only when it did not) whether to try again later:
    True while something in flight holds it back, False when it never will."""
    if shim.exit is not None or not supported(shim):
        return False
    args = argv(shim)
    if args is None:
        return True
    keep = [shim.listener.fileno(), *shim.out, *(c.sock.fileno() for c in shim.clients.values())]
    if shim.stdin is not None and not shim.stdin.closed:
        keep.append(shim.stdin.fd)
    try:
        for fd in keep:
            os.set_inheritable(fd, True)
        os.execv(args[0], args)
    except OSError as exc:  # the Python shim still serves the container
        os.write(2, f"dockyard-monitor: hand-over failed: {exc}\n".encode())
        for fd in keep:
            try:
                os.set_inheritable(fd, False)
            except OSError:
                pass
        return False
