"""Freezing a container's cgroup (``pause``/``unpause``), v1 and v2.

v1: ``freezer.state`` takes ``FROZEN``/``THAWED`` and reads ``FREEZING``
until every task has stopped; runc re-writes ``FROZEN`` while it waits,
because a task forking at the wrong moment can leave the cgroup half frozen.
v2: ``cgroup.freeze`` takes 1/0 and ``cgroup.events`` says ``frozen 1`` once
it is done.  Both wait with a deadline and raise ``RuntimeFailure`` on expiry.
"""

from __future__ import annotations

import time
from pathlib import Path

from dockyard.errors import RuntimeFailure
from dockyard.runtime.cgroups.base import write

TIMEOUT = 5.0
_POLL = 0.001


def _until(check, retry, what: str, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    delay = _POLL
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeFailure(f"timed out waiting for the cgroup to become {what}", step="freezer")
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
        retry()


def freeze_v1(freezer_dir: Path, timeout: float = TIMEOUT) -> None:
    state = freezer_dir / "freezer.state"
    write(state, "FROZEN")
    _until(lambda: state.read_text().strip() == "FROZEN", lambda: write(state, "FROZEN"), "frozen", timeout)


def thaw_v1(freezer_dir: Path, timeout: float = TIMEOUT) -> None:
    state = freezer_dir / "freezer.state"
    if not state.exists():
        return
    write(state, "THAWED")
    _until(lambda: state.read_text().strip() == "THAWED", lambda: write(state, "THAWED"), "thawed", timeout)


def frozen_v1(freezer_dir: Path) -> bool:
    try:
        return (freezer_dir / "freezer.state").read_text().strip() != "THAWED"
    except FileNotFoundError:
        return False


def _events_frozen(path: Path) -> bool:
    try:
        for line in (path / "cgroup.events").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "frozen":
                return value.strip() == "1"
    except FileNotFoundError:
        pass
    return False


def freeze_v2(path: Path, timeout: float = TIMEOUT) -> None:
    write(path / "cgroup.freeze", "1")
    _until(lambda: _events_frozen(path), lambda: None, "frozen", timeout)


def thaw_v2(path: Path, timeout: float = TIMEOUT) -> None:
    if not (path / "cgroup.freeze").exists():
        return
    write(path / "cgroup.freeze", "0")
    _until(lambda: not _events_frozen(path), lambda: None, "thawed", timeout)


def frozen_v2(path: Path) -> bool:
    return _events_frozen(path)
