"""Shared cgroupfs file helpers for the v1 and v2 managers."""

from __future__ import annotations

import errno
import os
import signal
import time
from pathlib import Path
from typing import Callable, Iterable

RmdirFn = Callable[[Path], None]


def read_pids(dirs: Iterable[Path]) -> list[int]:
    """Union of cgroup.procs over ``dirs`` (missing dirs count as empty)."""
    pids: set[int] = set()
    for d in dirs:
        try:
            text = (d / "cgroup.procs").read_text()
        except FileNotFoundError:
            continue
        except OSError as exc:
            if exc.errno == errno.ENODEV:  # removed while we read it (a dead cgroup): no processes
                continue
            raise
        pids.update(int(x) for x in text.split())
    return sorted(pids)


def write(path: Path, value: str) -> None:
    # cgroupfs files want one write(2) of the whole value; no truncation dance.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def kill_all(dirs: Iterable[Path], sig: int = signal.SIGKILL) -> None:
    for pid in read_pids(dirs):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def remove_dirs(dirs: Iterable[Path], rmdir: RmdirFn, timeout: float = 2.0) -> None:
    """rmdir each dir; retry EBUSY briefly while killed processes vanish."""
    deadline = time.monotonic() + timeout
    for d in dirs:
        while True:
            try:
                rmdir(d)
                break
            except FileNotFoundError:
                break
            except OSError as exc:
                if exc.errno != errno.EBUSY or time.monotonic() > deadline:
                    raise
                kill_all([d])
                time.sleep(0.01)
