import io
import os
import tarfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockyard.image.diff import Change, Kind, changes, layer_chunks, plan
from dockyard.image.layers import apply_layer
from dockyard.image.tarwriter import Entry, header, padding
from .treeutil import describe


def make_tree(root: Path) -> None:
    (root / "bin").mkdir(parents=True)
    (root / "bin/tool").write_bytes(b"#!/bin/sh\necho hi\n")
    os.chmod(root / "bin/tool", 0o4755)
    os.link(root / "bin/tool", root / "bin/tool2")
    os.symlink("tool", root / "bin/sh")
    os.symlink("/etc/shadow", root / "bin/abs")  # archived as a link, never followed
    (root / "tmp").mkdir(mode=0o1777)
    os.chmod(root / "tmp", 0o1777)
    (root / "empty").write_bytes(b"")
    (root / "big").write_bytes(bytes(range(256)) * 12)
    os.mkfifo(root / "fifo")
    (root / "deep/a/b").mkdir(parents=True)
    (root / "deep/a/b/c").write_text("c")
    for p in sorted(root.rglob("*"), reverse=True):
        os.utime(p, (1_600_000_000, 1_600_000_000), follow_symlinks=False)


def roundtrip(src: Path, dst: Path, **kw) -> bytes:
    data = b"".join(layer_chunks(str(src), [], **kw))
    dst.mkdir()
    apply_layer(io.BytesIO(data), dst)
    return data


def test_apply_of_diff_reproduces_the_tree(tmp_path):
    make_tree(tmp_path / "src")
    data = roundtrip(tmp_path / "src", tmp_path / "dst")
    assert describe(tmp_path / "dst") == describe(tmp_path / "src")
    names = [m.name for m in tarfile.open(fileobj=io.BytesIO(data))]
    assert names == sorted(names, key=lambda n: n.split("/"))
    assert b"bin/\0" in data  # directory names end in "/", as Go writes them
    kinds = {m.name: m for m in tarfile.open(fileobj=io.BytesIO(data))}
    assert kinds["bin/tool2"].islnk() and kinds["bin/tool2"].linkname == "bin/tool"
    assert kinds["bin/abs"].issym() and kinds["bin/abs"].size == 0


def test_layer_is_reproducible_and_mtime_can_be_fixed(tmp_path):
    make_tree(tmp_path / "a")
    first = b"".join(layer_chunks(str(tmp_path / "a"), []))
    assert b"".join(layer_chunks(str(tmp_path / "a"), [])) == first
    make_tree(tmp_path / "b")
    os.utime(tmp_path / "b/big", (1, 1))
    assert b"".join(layer_chunks(str(tmp_path / "b"), [])) != first
    fixed = [b"".join(layer_chunks(str(tmp_path / d), [], mtime=0)) for d in "ab"]
    assert fixed[0] == fixed[1]
    assert {m.mtime for m in tarfile.open(fileobj=io.BytesIO(fixed[0]))} == {0}


def test_changes_against_lower(tmp_path):
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    for d in (lower / "etc", lower / "usr/bin", lower / "tmp"):
        d.mkdir(parents=True)
    (lower / "etc/passwd").write_text("root\n")
    (lower / "etc/group").write_text("root\n")
    # The upper dir as overlayfs leaves it: copied-up parents, new and changed entries.
    for d in (upper / "etc", upper / "usr", upper / "newdir/sub", upper / "tmp"):
        d.mkdir(parents=True)
    (upper / "etc/passwd").write_text("root\nme\n")
    (upper / "newdir/sub/f").write_text("f")
    (upper / "etc/hostname").write_text("")  # a mount point the runtime made: never part of a diff
    os.utime(upper / "usr", (5, 5))  # mtime-only change: in the layer, not in `diff` (as Docker)
    os.chmod(upper / "tmp", 0o1777)
    got = changes(str(upper), [str(lower)])
    assert got == [Change("/etc", Kind.MODIFIED), Change("/etc/passwd", Kind.MODIFIED),
                   Change("/newdir", Kind.ADDED), Change("/newdir/sub", Kind.ADDED),
                   Change("/newdir/sub/f", Kind.ADDED), Change("/tmp", Kind.MODIFIED)]
    assert [i.parts for i in plan(str(upper), [str(lower)])] == [
        ("etc",), ("etc", "passwd"), ("newdir",), ("newdir", "sub"), ("newdir", "sub", "f"), ("tmp",), ("usr",)]
    assert Change("/x", Kind.DELETED).to_json() == {"Path": "/x", "Kind": 2}


def test_nothing_changed_is_an_empty_plan(tmp_path):
    (tmp_path / "lower/etc").mkdir(parents=True)
    (tmp_path / "upper/etc").mkdir(parents=True)
    (tmp_path / "upper/etc/hosts").write_text("")
    os.utime(tmp_path / "upper/etc", (7, 7))  # touched only because the mount point was made
    assert plan(str(tmp_path / "upper"), [str(tmp_path / "lower")]) == []


def test_tar_header_values():
    h = header(Entry("a/" + "x" * 200, size=3, xattrs={"security.capability": b"\x01\x00\x00\x02\xff"}))
    ti = next(iter(tarfile.open(fileobj=io.BytesIO(h + b"abc" + padding(3) + b"\0" * 1024))))
    assert ti.name == "a/" + "x" * 200 and ti.size == 3
    assert ti.pax_headers["SCHILY.xattr.security.capability"].encode("utf-8", "surrogateescape") == \
        b"\x01\x00\x00\x02\xff"
    assert len(h) % 512 == 0 and padding(512) == b"" and len(padding(3)) == 509


_names = st.text(alphabet="abcxyz.-_", min_size=1, max_size=6).filter(
    lambda n: n not in (".", "..") and not n.startswith(".wh."))
_trees = st.recursive(
    st.one_of(st.binary(max_size=700), st.tuples(st.just("link"), _names)),
    lambda kids: st.dictionaries(_names, kids, max_size=4), max_leaves=12)


def _build(root: Path, tree: dict, mtimes: st.DataObject) -> None:
    for name, node in tree.items():
        p = root / name
        if isinstance(node, dict):
            p.mkdir()
            _build(p, node, mtimes)
        elif isinstance(node, tuple):
            os.symlink(node[1], p)
        else:
            p.write_bytes(node)
            os.chmod(p, mtimes.draw(st.sampled_from([0o644, 0o755, 0o600, 0o4755, 0o2750])))
    for name in tree:
        t = mtimes.draw(st.integers(0, 2_000_000_000))
        os.utime(root / name, (t, t), follow_symlinks=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=st.dictionaries(_names, _trees, max_size=5), data=st.data())
def test_property_apply_of_diff_is_identity(tmp_path_factory, tree, data):
    base = tmp_path_factory.mktemp("prop")
    (base / "src").mkdir()
    _build(base / "src", tree, data)
    roundtrip(base / "src", base / "dst")
    assert describe(base / "dst") == describe(base / "src")
