import errno
import io
import os
import stat
import tarfile

import pytest

from dockyard.errors import DigestMismatch, InvalidArgument
from dockyard.image.layers import Limits, apply_layer, clean_name
from .layertars import E, dir_, gz, hard, layer, sha, sym


@pytest.fixture
def box(tmp_path):
    """A layer dir next to an 'outside' dir holding a secret that must stay untouched."""
    dest = tmp_path / "layer"
    dest.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("secret")
    return dest, outside


def snapshot_outside(outside):
    return sorted((p.name, p.read_bytes() if p.is_file() else None) for p in outside.iterdir())


def test_basic_entries(box):
    dest, _ = box
    data = layer(
        dir_("bin"), E("bin/tool", data=b"#!/bin/sh\n", mode=0o4755, mtime=1_000_000),
        dir_("tmp", mode=0o1777), sym("bin/sh", "tool"), hard("bin/tool2", "bin/tool"),
        E("run/fifo", tarfile.FIFOTYPE, mode=0o640), E("/abs/file", data=b"abs"), E("./dot/file", data=b"dot"),
        dir_("bin", mtime=1_234_567),
    )
    applied = apply_layer(io.BytesIO(data), dest)
    assert applied.diff_id == sha(data) and applied.size == len(data) and applied.compression == ""
    st = os.stat(dest / "bin/tool")
    assert stat.S_IMODE(st.st_mode) == 0o4755 and int(st.st_mtime) == 1_000_000
    assert (dest / "bin/tool").read_bytes() == b"#!/bin/sh\n"
    assert stat.S_IMODE(os.stat(dest / "tmp").st_mode) == 0o1777
    assert os.readlink(dest / "bin/sh") == "tool"
    assert os.stat(dest / "bin/tool2").st_ino == st.st_ino
    assert stat.S_ISFIFO(os.lstat(dest / "run/fifo").st_mode)
    assert (dest / "abs/file").read_bytes() == b"abs"  # leading "/" stripped, as Docker does
    assert (dest / "dot/file").read_bytes() == b"dot"
    assert int(os.stat(dest / "bin").st_mtime) == 1_234_567  # dir times set last


def test_gzip_and_diff_id(box):
    dest, _ = box
    plain = layer(E("f", data=b"x"))
    applied = apply_layer(io.BytesIO(gz(plain)), dest, expected_diff_id=sha(plain))
    assert applied.diff_id == sha(plain) and applied.compression == "gzip"


def test_diff_id_mismatch_removes_dest(box):
    dest, _ = box
    with pytest.raises(DigestMismatch):
        apply_layer(io.BytesIO(layer(E("f", data=b"x"))), dest, expected_diff_id=sha(b"other"))
    assert not dest.exists()


def test_later_entry_replaces_earlier(box):
    dest, outside = box
    data = layer(sym("x", str(outside / "secret")), E("x", data=b"mine"), dir_("d"), E("d/f", data=b"1"),
                 E("d", data=b"now a file"))
    apply_layer(io.BytesIO(data), dest)
    assert (dest / "x").read_bytes() == b"mine" and not (dest / "x").is_symlink()
    assert (dest / "d").read_bytes() == b"now a file"
    assert (outside / "secret").read_text() == "secret"


@pytest.mark.parametrize("entries", [
    pytest.param(lambda o: [E("../evil", data=b"x")], id="dotdot"),
    pytest.param(lambda o: [E("a/../../evil", data=b"x")], id="nested-dotdot"),
    pytest.param(lambda o: [E("/../evil", data=b"x")], id="abs-dotdot"),
    pytest.param(lambda o: [E("ok", data=b"x"), E("../../../../../../tmp/evil", data=b"x")], id="deep-dotdot"),
    pytest.param(lambda o: [sym("link", str(o)), E("link/evil", data=b"x")], id="abs-symlink-parent"),
    pytest.param(lambda o: [sym("link", "../outside"), E("link/evil", data=b"x")], id="rel-symlink-parent"),
    pytest.param(lambda o: [sym("link", str(o)), dir_("link/sub")], id="symlink-parent-dir"),
    pytest.param(lambda o: [dir_("a"), sym("a/b", "/"), E("a/b/tmp/evil", data=b"x")], id="nested-symlink-root"),
    pytest.param(lambda o: [hard("hl", "../outside/secret")], id="hardlink-dotdot"),
    pytest.param(lambda o: [hard("hl", str(o / "secret")[1:] + "/../../../../../../" + str(o / "secret"))],
                 id="hardlink-dotdot-mixed"),
    pytest.param(lambda o: [sym("link", str(o)), hard("hl", "link/secret")], id="hardlink-through-symlink"),
    pytest.param(lambda o: [hard("hl", "missing")], id="hardlink-missing"),
    pytest.param(lambda o: [dir_("d"), hard("hl", "d")], id="hardlink-to-dir"),
    pytest.param(lambda o: [E("d/.wh..", data=b"")], id="whiteout-dotdot"),
    pytest.param(lambda o: [sym("link", str(o)), E("link/.wh.secret")], id="whiteout-through-symlink"),
    pytest.param(lambda o: [sym("link", str(o)), E("link/.wh..wh..opq")], id="opaque-through-symlink"),
])
def test_escapes_are_refused_and_leave_nothing(box, entries):
    dest, outside = box
    before = snapshot_outside(outside)
    try:
        data = layer(*entries(outside))
    except (ValueError, tarfile.TarError):
        pytest.skip("tarfile cannot even write this name")
    with pytest.raises(InvalidArgument) as exc:
        apply_layer(io.BytesIO(data), dest)
    assert "layer entry" in str(exc.value)
    assert not dest.exists()
    assert snapshot_outside(outside) == before
    assert not (dest.parent / "evil").exists() and not os.path.exists("/tmp/evil")


def test_symlink_already_in_target_dir_is_not_followed(box):
    dest, outside = box
    os.symlink(outside, dest / "pre")
    with pytest.raises(InvalidArgument, match="'pre/evil'"):
        apply_layer(io.BytesIO(layer(E("pre/evil", data=b"x"))), dest)
    assert not (outside / "evil").exists() and not dest.exists()


def test_dest_itself_a_symlink_is_refused(box, tmp_path):
    dest, outside = box
    link = tmp_path / "linkdest"
    os.symlink(outside, link)
    with pytest.raises(InvalidArgument):
        apply_layer(io.BytesIO(layer(E("evil", data=b"x"))), link)
    assert not (outside / "evil").exists()


def test_overlay_xattrs_from_the_tar_are_dropped(box):
    dest, _ = box
    apply_layer(io.BytesIO(layer(dir_("d", pax={"SCHILY.xattr.trusted.overlay.redirect": "/etc"}))), dest)
    with pytest.raises(OSError):
        os.getxattr(dest / "d", "trusted.overlay.redirect")


def test_user_xattr(box):
    dest, _ = box
    try:
        os.setxattr(dest, "user.probe", b"1")
    except OSError as exc:
        if exc.errno in (errno.ENOTSUP, errno.EPERM):
            pytest.skip("no user xattrs here")
        raise
    apply_layer(io.BytesIO(layer(E("f", data=b"x", pax={"SCHILY.xattr.user.k": "v"}))), dest)
    assert os.getxattr(dest / "f", "user.k") == b"v"


def test_limits(box, tmp_path):
    dest, _ = box
    with pytest.raises(InvalidArgument, match="more than 2 entries"):
        apply_layer(io.BytesIO(layer(E("a"), E("b"), E("c"))), dest, limits=Limits(max_entries=2))
    assert not dest.exists()
    dest.mkdir()
    with pytest.raises(InvalidArgument, match="larger than"):
        apply_layer(io.BytesIO(layer(E("a", data=b"x" * 100_000))), dest, limits=Limits(max_bytes=50_000))
    assert not dest.exists()


def test_garbage_and_zstd(box):
    dest, _ = box
    with pytest.raises(InvalidArgument):
        apply_layer(io.BytesIO(b"\x1f\x8bnot really gzip"), dest)
    assert not dest.exists()
    dest.mkdir()
    try:
        import zstandard  # noqa: F401
    except ImportError:
        with pytest.raises(InvalidArgument, match="zstandard"):
            apply_layer(io.BytesIO(b"\x28\xb5\x2f\xfd" + b"\0" * 20), dest)


@pytest.mark.parametrize("name, parts", [
    ("a/b", ["a", "b"]), ("/a/b/", ["a", "b"]), ("./a/./b", ["a", "b"]), ("a/../b", ["b"]),
    (".", []), ("/", []), ("", []),
])
def test_clean_name(name, parts):
    assert clean_name(name) == parts


def test_zstd_layer_applies_with_the_uncompressed_diff_id(box):
    from dockyard.image.compression import compress

    dest, _ = box
    plain = layer(E("dir/", tarfile.DIRTYPE, mode=0o755), E("dir/f", data=b"zstd payload"))
    blob = b"".join(compress([plain], "zstd"))
    assert blob[:4] == b"\x28\xb5\x2f\xfd" and blob != plain
    applied = apply_layer(io.BytesIO(blob), dest, expected_diff_id=sha(plain))
    assert applied.diff_id == sha(plain) and applied.compression == "zstd"
    assert (dest / "dir" / "f").read_bytes() == b"zstd payload"


def test_compress_round_trips_and_gzip_is_reproducible():
    from dockyard.image.compression import compress, decompress

    data = b"layer bytes " * 10000
    for kind in ("gzip", "zstd", ""):
        blob = b"".join(compress(iter([data[:5000], data[5000:]]), kind))
        found, stream = decompress(io.BytesIO(blob))
        assert found == kind and stream.read() == data
    assert b"".join(compress([data], "gzip")) == b"".join(compress([data], "gzip"))


def test_a_directory_replaced_then_recreated_gets_the_new_entries(tmp_path):
    """Parent fds are cached while unpacking: entries after a replaced directory land in the new one."""
    from .layertars import dir_, layer, sym

    dest = tmp_path / "layer"
    dest.mkdir()
    data = layer(dir_("a/b"), E("a/b/old", data=b"1"), sym("a", "elsewhere"), dir_("a"), E("a/b/new", data=b"2"),
                 *[E(f"d{i}/f", data=b"x") for i in range(300)], E("a/b/last", data=b"3"))
    apply_layer(io.BytesIO(data), dest)
    assert sorted(os.listdir(dest / "a" / "b")) == ["last", "new"] and not (dest / "a").is_symlink()
    assert len([n for n in os.listdir(dest) if n.startswith("d")]) == 300


def test_a_corrupt_deflate_stream_is_invalid_argument(tmp_path):
    """Whichever library inflates (ISA-L or zlib), a damaged body is a clean InvalidArgument."""
    blob = bytearray(gz(layer(E("f", data=os.urandom(1000) * 50))))
    blob[40:60] = b"\xff" * 20  # inside the deflate data, past the gzip header
    dest = tmp_path / "layer"
    dest.mkdir()
    with pytest.raises(InvalidArgument, match="invalid layer tar"):
        apply_layer(io.BytesIO(bytes(blob)), dest)
    assert not dest.exists()
