"""Run work on a stopped container's filesystem in a private mount namespace.

A stopped container has no mounted root.  A fresh thread unshares its mount
namespace (``CLONE_NEWNS|CLONE_FS``: per thread, as moby's
``internal/unshare``), makes everything slave so nothing propagates to the
host, mounts the container's rootfs and its volumes/binds under a scratch
directory, and runs the work there.  When the thread ends its namespace and
every mount in it go away with it: nothing can be stranded on the host,
whatever happens to the daemon.

``stream`` runs a generator in that thread and hands its items over through
a bounded queue, so a tar can be streamed to the client as it is produced;
closing the returned iterator stops the producer.
"""

from __future__ import annotations

import os
import queue
import tempfile
import threading
from typing import Any, Callable, Iterator, Sequence

from dockyard.core.mount import Mount
from dockyard.runtime import rootfs as rootfs_steps
from dockyard.runtime.paths import resolve_in_root
from dockyard.runtime.sys.linux import LinuxSyscalls
from dockyard.runtime.sys.syscalls import CloneFlag, MountFlag

CLONE_FS = 0x00000200
_END = object()


def _enter(sys: LinuxSyscalls) -> None:
    sys.unshare(CloneFlag(int(CloneFlag.NEWNS) | CLONE_FS))
    sys.mount(None, "/", None, MountFlag.SLAVE | MountFlag.REC)


def mount_root(sys: LinuxSyscalls, scratch: str, rootfs: Sequence[Mount], extra: Sequence[tuple[str, Mount]],
               readonly: bool) -> None:
    """The rootfs mounts onto ``scratch``, then ``extra`` (container path, Mount) inside it."""
    mounts = list(rootfs)
    if readonly:  # upper joins the lowers: a read-only view, no workdir, no writes to the snapshot
        mounts = [_readonly_overlay(m) for m in mounts]
    rootfs_steps.mount_rootfs(sys, scratch, mounts)
    for dest, m in extra:
        target = resolve_in_root(scratch, dest)
        if m.type == "bind" and not os.path.isdir(m.source):
            continue  # file binds: cp sees the image's file (rare; keeps the rootfs untouched)
        if not os.path.isdir(target):
            if readonly:
                continue
            os.makedirs(target, exist_ok=True)
        opts = tuple(o for o in m.options if o != "ro") if m.type == "bind" else m.options
        rootfs_steps._mount_one(sys, m.source, target, m.type, opts)


def _readonly_overlay(m: Mount) -> Mount:
    if m.type != "overlay":
        return m
    opts = {k: v for k, _, v in (o.partition("=") for o in m.options)}
    lowers = ":".join(x for x in (opts.get("upperdir", ""), opts.get("lowerdir", "")) if x)
    return Mount("overlay", m.source, m.target, (f"lowerdir={lowers}",))


def stream(rootfs: Sequence[Mount], extra: Sequence[tuple[str, Mount]], work: Callable[[str], Iterator[Any]],
           *, readonly: bool) -> Iterator[Any]:
    """Items of ``work(root_path)``, produced in a private mount namespace."""
    q: queue.Queue[Any] = queue.Queue(maxsize=8)
    cancel = threading.Event()

    def put(item: Any) -> bool:
        while not cancel.is_set():
            try:
                q.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        sys = LinuxSyscalls()
        try:
            _enter(sys)
            with tempfile.TemporaryDirectory(prefix="dockyard-cp-") as scratch:
                try:
                    mount_root(sys, scratch, rootfs, extra, readonly)
                    for item in work(scratch):
                        if not put(item):
                            break
                finally:
                    try:  # detach so TemporaryDirectory can remove the (now empty) scratch dir
                        sys.umount2(scratch, 2)
                    except Exception:  # noqa: BLE001
                        pass
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            put(("__error__", exc))
            return
        put(_END)

    t = threading.Thread(target=run, name="cp-mountns", daemon=True)
    t.start()

    def consume() -> Iterator[Any]:
        try:
            while True:
                item = q.get()
                if item is _END:
                    return
                if isinstance(item, tuple) and len(item) == 2 and item[0] == "__error__":
                    raise item[1]
                yield item
        finally:
            cancel.set()
            t.join(timeout=30)

    return consume()
