"""--rm leaves nothing behind: no mount, cgroup, directory, process or row."""

from pathlib import Path

import pytest

from .conftest import _mount_lines, cgroup_leaves

pytestmark = pytest.mark.root


def procs_mentioning(path: Path) -> set[int]:
    """Processes whose command line names ``path``: the daemon, its spawn
    helper and any shim (shims are forks of the helper, so they share its
    command line even after setsid)."""
    out = set()
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if str(path).encode() in (d / "cmdline").read_bytes():
                    out.add(int(d.name))
            except OSError:
                continue
    return out


def procs_in_cgroup(parent: str) -> set[int]:
    out = set()
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if f"/{parent}/" in (d / "cgroup").read_text():
                    out.add(int(d.name))
            except OSError:
                continue
    return out


def test_twenty_rm_containers_leave_nothing(daemon):
    before = procs_mentioning(daemon.exec_root)
    snapshots = daemon.data_root / "snapshots" / "overlay"
    snaps_before = {p.name for p in snapshots.iterdir() if p.is_dir()}
    for i in range(20):
        cp = daemon.cli("run", "--rm", "busybox", "sh", "-c", f"echo {i}")
        assert cp.stdout == f"{i}\n".encode(), cp.stderr
    failed = daemon.cli("run", "--rm", "busybox", "nosuchcmd")  # a failed start leaves nothing either
    assert failed.returncode == 127
    assert daemon.cli("ps", "-aq").stdout == b""
    assert _mount_lines(daemon.data_root, daemon.exec_root) == []
    assert cgroup_leaves(daemon.cgroup_parent) == []
    assert procs_mentioning(daemon.exec_root) <= before
    assert procs_in_cgroup(daemon.cgroup_parent) == set()
    assert list((daemon.data_root / "containers").iterdir()) == []
    assert list((daemon.exec_root / "containers").iterdir()) == []
    runtime_root = daemon.exec_root / "runtime"
    assert not runtime_root.exists() or list(runtime_root.iterdir()) == []
    # Every container's snapshot is gone: only what existed before (image layers) remains.
    assert {p.name for p in snapshots.iterdir() if p.is_dir()} <= snaps_before
