"""Mount destinations are resolved by the kernel inside the root and pinned by fd (CVE-2021-30465 class)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockyard.runtime import mounttarget
from dockyard.runtime.sys.recording import RecordingSyscalls
from dockyard.runtime.sys.syscalls import MountFlag


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "rootfs"
    (r / "etc").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    return r


@pytest.mark.parametrize("link", ["/etc", "../../../../etc", "../../../etc/../etc"])
def test_symlinks_resolve_inside_the_root(root: Path, link: str) -> None:
    (root / "data").symlink_to(link)
    with mounttarget.pinned(str(root), "/data") as target:
        assert os.readlink(target) == str(root / "etc")


def test_magic_links_are_not_followed(root: Path) -> None:
    (root / "x").symlink_to("/proc/self/root")  # inside the root: /proc/self/root is a dangling path, not magic
    (root / "proc" / "self").mkdir(parents=True)
    (root / "proc" / "self" / "root").symlink_to("/")
    with mounttarget.pinned(str(root), "/x") as target:
        assert os.readlink(target) == str(root)


def test_a_directory_moved_out_after_open_is_caught(root: Path, tmp_path: Path) -> None:
    (root / "vol").mkdir()
    root_fd = os.open(root, os.O_PATH)
    fd = mounttarget._openat2(root_fd, "/vol")
    os.close(root_fd)
    try:
        os.rename(root / "vol", tmp_path / "outside" / "vol")  # the race: the pinned dentry now lives outside
        with pytest.raises(mounttarget.EscapedRoot):
            mounttarget.check_inside(fd, str(root), "/vol")
    finally:
        os.close(fd)


def test_every_call_reopens_and_mount_goes_to_the_pinned_place(root: Path) -> None:
    (root / "data").symlink_to("/etc")
    sys = RecordingSyscalls()
    mounttarget.mount_in_root(sys, str(root), "/data", "/src", "bind", ["rbind", "ro", "rprivate"])
    assert sys.calls == [
        ("mount", "/src", str(root / "etc"), None, MountFlag.BIND | MountFlag.REC, None),
        ("mount", None, str(root / "etc"), None, MountFlag.BIND | MountFlag.REMOUNT | MountFlag.RDONLY, None),
        ("mount", None, str(root / "etc"), None, MountFlag.PRIVATE | MountFlag.REC, None),
    ]
