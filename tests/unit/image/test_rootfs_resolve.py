"""image/rootfs.py path walking: read_file (a miss is None) and resolve_prefix (the rest kept)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockyard.image import rootfs


@pytest.fixture()
def layers(tmp_path: Path) -> list[str]:
    upper, lower = tmp_path / "upper", tmp_path / "lower"
    (lower / "usr" / "bin").mkdir(parents=True)
    (lower / "usr" / "bin" / "tool").write_bytes(b"lower tool")
    (lower / "etc").mkdir()
    (lower / "etc" / "passwd").write_bytes(b"root:x:0:0")
    os.symlink("usr/bin", lower / "bin")
    upper.mkdir()
    os.symlink("/etc/passwd", upper / "abs")  # absolute: restarts at the rootfs root
    os.symlink("../../../../etc/passwd", upper / "climb")  # ".." never climbs above the root
    os.symlink("loop2", upper / "loop1")
    os.symlink("loop1", upper / "loop2")
    return [str(upper), str(lower)]


def test_read_file_follows_links_in_the_merged_view(layers: list[str]) -> None:
    assert rootfs.read_file(layers, "/bin/tool") == b"lower tool"
    assert rootfs.read_file(layers, "/abs") == b"root:x:0:0"
    assert rootfs.read_file(layers, "/climb") == b"root:x:0:0"
    assert rootfs.read_file(layers, "usr/./bin/../bin/tool") == b"lower tool"


def test_read_file_misses(layers: list[str]) -> None:
    assert rootfs.read_file(layers, "/nope/tool") is None
    assert rootfs.read_file(layers, "/loop1") is None  # past MAX_SYMLINKS
    assert rootfs.read_file(layers, "/usr/bin") is None  # a directory
    assert rootfs.read_file(layers, "/") is None


def test_resolve_prefix_resolves_existing_components(layers: list[str]) -> None:
    assert rootfs.resolve_prefix(layers, "/bin/x") == ["usr", "bin", "x"]
    assert rootfs.resolve_prefix(layers, "/bin/tool") == ["usr", "bin", "tool"]
    assert rootfs.resolve_prefix(layers, "/abs") == ["etc", "passwd"]


def test_resolve_prefix_keeps_the_missing_rest(layers: list[str]) -> None:
    assert rootfs.resolve_prefix(layers, "/new/dir/../file") == ["new", "dir", "file"]
    assert rootfs.resolve_prefix(layers, "/bin/new/sub") == ["usr", "bin", "new", "sub"]
    assert rootfs.resolve_prefix(layers, "/") == []


def test_resolve_prefix_keeps_a_link_past_the_limit_as_a_name(layers: list[str]) -> None:
    parts = rootfs.resolve_prefix(layers, "/loop1/x")
    assert parts[-1] == "x" and parts[0] in ("loop1", "loop2")
