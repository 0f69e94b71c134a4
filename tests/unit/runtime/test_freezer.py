"""Freezer (pause/unpause) against fake cgroupfs files."""

from pathlib import Path

import pytest

from dockyard.errors import RuntimeFailure
from dockyard.runtime.cgroups import CgroupV1, CgroupV2
from dockyard.runtime.cgroups import freezer


def test_v1_freeze_thaw(tmp_path: Path) -> None:
    d = tmp_path / "freezer" / "c1"
    d.mkdir(parents=True)
    (d / "freezer.state").write_text("THAWED\n")
    cg = CgroupV1({"freezer": d, "memory": tmp_path / "memory" / "c1"})
    cg.freeze()
    assert (d / "freezer.state").read_text() == "FROZEN" and cg.frozen()
    cg.thaw()
    assert (d / "freezer.state").read_text() == "THAWED" and not cg.frozen()


def test_v1_without_freezer_hierarchy(tmp_path: Path) -> None:
    cg = CgroupV1({"memory": tmp_path / "memory"})
    with pytest.raises(RuntimeFailure, match="freezer"):
        cg.freeze()
    cg.thaw()  # nothing to thaw: no error


def test_v2_freeze_waits_for_events(tmp_path: Path) -> None:
    (tmp_path / "c1").mkdir()
    (tmp_path / "c1" / "cgroup.events").write_text("populated 1\nfrozen 1\n")
    cg = CgroupV2(tmp_path, tmp_path / "c1")
    cg.freeze()
    assert (tmp_path / "c1" / "cgroup.freeze").read_text() == "1" and cg.frozen()
    with pytest.raises(RuntimeFailure, match="thawed"):
        freezer.thaw_v2(tmp_path / "c1", timeout=0.05)  # the fake never reports "frozen 0"
