"""read_pids when a cgroup dir vanishes under it: the daemon's exit monitor and a client's
DELETE may both remove a container's cgroup; a cgroupfs file whose dir was removed after
open reads as ENODEV, which means "no processes", like a missing dir."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from dockyard.runtime.cgroups import base


def test_missing_and_removed_dirs_count_as_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    live, gone, dead = tmp_path / "live", tmp_path / "gone", tmp_path / "dead"
    live.mkdir()
    dead.mkdir()
    (live / "cgroup.procs").write_text("12\n7\n")
    (dead / "cgroup.procs").write_text("99\n")
    real = Path.read_text

    def read_text(self: Path, *a: object, **kw: object) -> str:
        if self.parent == dead:
            raise OSError(errno.ENODEV, "No such device")
        return real(self, *a, **kw)  # type: ignore[arg-type]
    monkeypatch.setattr(Path, "read_text", read_text)
    assert base.read_pids([live, gone, dead]) == [7, 12]


def test_other_errors_still_raise(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cgroup.procs").write_text("1\n")

    def read_text(self: Path, *a: object, **kw: object) -> str:
        raise OSError(errno.EIO, "I/O error")
    monkeypatch.setattr(Path, "read_text", read_text)
    with pytest.raises(OSError):
        base.read_pids([tmp_path])
