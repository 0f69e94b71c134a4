"""Cgroup managers against a fake cgroupfs tree in tmp_path."""

import shutil
from pathlib import Path

from dockyard.oci.runtime import Resources
from dockyard.runtime.cgroups import CgroupV1, CgroupV2, cgroup_from_json, detect, open_cgroup, own_v1_paths, shares_to_weight

PROC_CGROUP = "9:name=systemd:/\n4:memory:/sandbox/abc\n3:cpuset:/\n1:cpu,cpuacct:/\n8:pids:/\n0::/\n"


def fake_v1(root: Path, hybrid: bool = False) -> Path:
    for h in ("memory", "cpuset", "cpu,cpuacct", "pids", "systemd"):
        (root / h).mkdir(parents=True)
    (root / "cpu").symlink_to("cpu,cpuacct")
    (root / "memory" / "sandbox" / "abc").mkdir(parents=True)
    (root / "cpuset" / "cpuset.cpus").write_text("0-3\n")
    (root / "cpuset" / "cpuset.mems").write_text("0\n")
    if hybrid:
        (root / "unified").mkdir()
        (root / "unified" / "cgroup.controllers").write_text("")
    return root


def test_detect(tmp_path: Path) -> None:
    assert detect(fake_v1(tmp_path / "a")) == "v1"
    assert detect(fake_v1(tmp_path / "b", hybrid=True)) == "hybrid"
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "cgroup.controllers").write_text("cpu memory pids")
    assert detect(tmp_path / "c") == "v2"


def test_own_paths() -> None:
    own = own_v1_paths(PROC_CGROUP)
    assert own["memory"] == "/sandbox/abc" and own["cpu,cpuacct"] == "/" and own["systemd"] == "/"


def test_v1_hybrid_nested_dirs_create_apply_destroy(tmp_path: Path) -> None:
    root = fake_v1(tmp_path / "cg", hybrid=True)
    cg = open_cgroup("/dockyard/c1", root, proc_cgroup=PROC_CGROUP, rmdir=shutil.rmtree)
    assert isinstance(cg, CgroupV1)
    assert cg.dirs == {
        "cpu,cpuacct": root / "cpu,cpuacct/dockyard/c1", "cpuset": root / "cpuset/dockyard/c1",
        "memory": root / "memory/sandbox/abc/dockyard/c1", "pids": root / "pids/dockyard/c1",
        "systemd": root / "systemd/dockyard/c1",
    }
    cg.create()
    # cpuset levels inherit cpus/mems from their parent, level by level
    assert (root / "cpuset/dockyard/cpuset.cpus").read_text() == "0-3"
    assert (root / "cpuset/dockyard/c1/cpuset.mems").read_text() == "0"
    cg.apply(Resources(memory_limit=1 << 20, pids_limit=10, cpu_shares=512))
    assert (root / "memory/sandbox/abc/dockyard/c1/memory.limit_in_bytes").read_text() == str(1 << 20)
    assert (root / "pids/dockyard/c1/pids.max").read_text() == "10"
    assert (root / "cpu,cpuacct/dockyard/c1/cpu.shares").read_text() == "512"
    cg.add_process(4242)
    assert cg.pids() == [4242]
    again = cgroup_from_json(cg.to_json(), rmdir=shutil.rmtree)
    assert again.dirs == cg.dirs
    again.destroy()
    assert all(not d.exists() for d in cg.dirs.values())
    assert (root / "pids/dockyard").exists()  # parents are shared with other containers


def test_v1_not_nested(tmp_path: Path) -> None:
    root = fake_v1(tmp_path / "cg")
    cg = open_cgroup("/dockyard/c1", root, nest_under_own=False)
    assert cg.dirs["memory"] == root / "memory/dockyard/c1"


def test_v1_unset_resources_write_nothing(tmp_path: Path) -> None:
    root = fake_v1(tmp_path / "cg")
    cg = open_cgroup("/d/c", root, nest_under_own=False)
    cg.create()
    cg.apply(Resources())
    assert not (root / "memory/d/c/memory.limit_in_bytes").exists()


def test_v2_enables_controllers_top_down(tmp_path: Path) -> None:
    root = tmp_path / "cg"
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    cg = open_cgroup("/dockyard/c1", root, rmdir=shutil.rmtree)
    assert isinstance(cg, CgroupV2) and cg.path == root / "dockyard/c1"
    (root / "dockyard").mkdir()
    (root / "dockyard" / "cgroup.controllers").write_text("cpu memory pids\n")
    cg.create()
    assert (root / "cgroup.subtree_control").read_text() == "+cpu +cpuset +io +memory +pids"
    assert (root / "dockyard/cgroup.subtree_control").read_text() == "+cpu +memory +pids"
    cg.apply(Resources(memory_limit=1 << 20, pids_limit=-1, cpu_shares=1024))
    assert (cg.path / "memory.max").read_text() == str(1 << 20)
    assert (cg.path / "pids.max").read_text() == "max"
    assert (cg.path / "cpu.weight").read_text() == str(shares_to_weight(1024))
    cg.destroy()
    assert not cg.path.exists()


def test_shares_to_weight() -> None:
    assert shares_to_weight(2) == 1 and shares_to_weight(262144) == 10000 and shares_to_weight(1024) == 39
