import os
from pathlib import Path

from dockyard.runtime.paths import resolve_in_root


def test_symlinks_cannot_escape(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    os.symlink("/etc", root / "abs")          # absolute: restarts at the rootfs
    os.symlink("../../../..", root / "up")     # climbing: stops at the rootfs
    os.symlink("etc", root / "rel")
    r = str(root)
    assert resolve_in_root(r, "/abs/hosts") == f"{r}/etc/hosts"
    assert resolve_in_root(r, "/up/etc/passwd") == f"{r}/etc/passwd"
    assert resolve_in_root(r, "/rel/../rel/x") == f"{r}/etc/x"
    assert resolve_in_root(r, "/../../new/dir") == f"{r}/new/dir"
    assert resolve_in_root(r, "/") == r
