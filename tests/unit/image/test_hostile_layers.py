"""The hostile-tar corpus beyond escapes (tests/unit/image/test_layers.py has those): each refused, nothing left."""

import io
import os
import stat
import tarfile

import pytest

from dockyard.errors import InvalidArgument
from dockyard.image.layers import Limits, apply_layer
from .layertars import E, dir_, hard, layer, sparse_bomb, sym, truncated_declared


@pytest.fixture
def box(tmp_path):
    dest = tmp_path / "layer"
    dest.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("secret")
    return dest, outside


def refused(dest, outside, data: bytes, match: str, limits: Limits = Limits()) -> None:
    before = sorted(os.listdir(outside))
    with pytest.raises(InvalidArgument, match=match):
        apply_layer(io.BytesIO(data), dest, limits=limits)
    assert not dest.exists(), "a refused layer leaves nothing behind"
    assert sorted(os.listdir(outside)) == before and (outside / "secret").read_text() == "secret"


CHR = tarfile.CHRTYPE
BLK = tarfile.BLKTYPE


@pytest.mark.parametrize("entries, match", [
    pytest.param([E("a", data=b"x"), E(".wh.a")], "both whited out and present", id="file-then-whiteout"),
    pytest.param([E(".wh.a"), E("a", data=b"x")], "both whited out and present", id="whiteout-then-file"),
    pytest.param([dir_("d"), E("d/.wh.x"), dir_("d/x")], "both whited out and present", id="whiteout-then-dir"),
    pytest.param([E(".wh.d"), E("d/f", data=b"x")], "whited out in this layer", id="entry-below-whiteout"),
    pytest.param([dir_(".wh.d"), E(".wh.d/f", data=b"x")], "used as a directory", id="whiteout-as-dir"),
    pytest.param([E("d/.wh..", data=b"")], "bad whiteout name", id="whiteout-dotdot"),
    pytest.param([E("d/.wh.", data=b"")], "bad whiteout name", id="whiteout-empty"),
    pytest.param([E("fake", CHR, major=0, minor=0)], "overlay whiteout", id="chr-0-0-is-a-whiteout"),
    pytest.param([E("x", data=b"1"), E(".wh.y"), hard("z", "y")], "hard link to a whiteout", id="hardlink-to-whiteout"),
    pytest.param([sym("l", "/"), E("l/etc/evil", data=b"x")], "symlink or not a directory", id="symlink-then-write"),
    pytest.param([E("/../../x", data=b"x")], "escapes", id="absolute-dotdot"),
    # The unpacker caches parent directory fds: a directory it has opened and
    # that a later entry replaces must never be written through again.
    pytest.param([dir_("a"), E("a/x", data=b"1"), sym("a", "/"), E("a/tmp/evil", data=b"x")],
                 "symlink or not a directory", id="cached-dir-replaced-by-symlink"),
    pytest.param([dir_("a/b"), E("a/b/x", data=b"1"), E("a", data=b"f"), E("a/b/y", data=b"x")],
                 "symlink or not a directory", id="cached-dir-replaced-by-file"),
])
def test_hostile_entries(box, entries, match):
    dest, outside = box
    if any(e.name.startswith(".wh.") or "/.wh." in e.name for e in entries) and os.geteuid() != 0:
        pytest.skip("whiteouts are device nodes: root only")
    refused(dest, outside, layer(*entries), match)


def test_device_nodes_where_not_allowed(box):
    dest, outside = box
    data = layer(E("sda", BLK, major=8, minor=0))
    refused(dest, outside, data, "device nodes are not allowed", Limits(allow_devices=False))
    dest.mkdir()
    refused(dest, outside, layer(E("null", CHR, major=1, minor=3)), "device nodes are not allowed",
            Limits(allow_devices=False))


def test_sparse_bomb_declaring_10gb_is_refused_from_its_header(box):
    dest, outside = box
    data = sparse_bomb(realsize=10 << 30)
    assert len(data) < 4096
    refused(dest, outside, data, "sparse file declares 10737418240 bytes")


def test_small_sparse_file_is_fine(box):
    dest, _ = box
    apply_layer(io.BytesIO(sparse_bomb("ok", realsize=8192, data=b"y" * 512)), dest)
    body = (dest / "ok").read_bytes()
    assert len(body) == 8192 and body.endswith(b"y" * 512) and body[:7680] == b"\0" * 7680


def test_declared_size_beyond_limit_or_free_space(box):
    dest, outside = box
    refused(dest, outside, truncated_declared(size=10 << 30), "larger than the limit", Limits(max_bytes=1 << 30))
    dest.mkdir()
    vfs = os.statvfs(dest)
    free = vfs.f_bavail * vfs.f_frsize
    refused(dest, outside, truncated_declared(size=free + (1 << 30)), "bytes are free", Limits(max_bytes=1 << 60))
    dest.mkdir()
    # Under both limits but truncated: the stream ends early, the error is clear, nothing is kept.
    refused(dest, outside, truncated_declared(size=1 << 20), "invalid layer tar")


def test_whiteout_conversion_and_allowed_devices(box):
    if os.geteuid() != 0:
        pytest.skip("whiteouts are device nodes: root only")
    dest, _ = box
    apply_layer(io.BytesIO(layer(dir_("d"), E("d/.wh..wh..opq"), E(".wh.gone"), E("null", CHR, major=1, minor=3))),
                dest)
    st = os.lstat(dest / "gone")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0
    assert os.getxattr(dest / "d", "trusted.overlay.opaque") == b"y"
    assert os.lstat(dest / "null").st_rdev == os.makedev(1, 3)
