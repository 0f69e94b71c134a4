"""docker CLI --mount / -v / --tmpfs parsing and the cp path rules."""

from __future__ import annotations

import pytest

from dockyard.cli import cpcopy
from dockyard.cli.mountspecs import MountSpecError, apply, parse_mount, ram_in_bytes


def test_mount_csv_examples():
    assert parse_mount("type=bind,source=/src,target=/app,readonly,bind-propagation=rslave") == {
        "Type": "bind", "Source": "/src", "Target": "/app", "ReadOnly": True, "BindOptions": {"Propagation": "rslave"}}
    assert parse_mount("src=v,dst=/d,volume-nocopy,volume-opt=type=tmpfs,volume-label=a=b") == {
        "Type": "volume", "Source": "v", "Target": "/d",
        "VolumeOptions": {"NoCopy": True, "DriverConfig": {"Options": {"type": "tmpfs"}}, "Labels": {"a": "b"}}}
    assert parse_mount("type=tmpfs,destination=/t,tmpfs-size=64m,tmpfs-mode=1770") == {
        "Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 64 << 20, "Mode": 0o1770}}
    assert parse_mount('type=bind,"source=/a,b",target=/c')["Source"] == "/a,b"  # CSV quoting


@pytest.mark.parametrize("value,message", [
    ("type=bind,target", "invalid field 'target' must be a key=value pair"),
    ("type=volume,foo=bar,target=/x", "unexpected key 'foo' in 'foo=bar'"),
    ("type=bind,src=/a", "target is required"),
    ("type=bind,target=/x,volume-nocopy", "cannot mix 'volume-*' options with mount type 'bind'"),
    ("type=volume,target=/x,tmpfs-size=1m", "cannot mix 'tmpfs-*' options with mount type 'volume'"),
    ("target=/x,readonly=maybe", "invalid value for readonly: maybe"),
])
def test_mount_csv_errors(value, message):
    with pytest.raises(MountSpecError, match=message.replace("*", r"\*")):
        parse_mount(value)


def test_apply_splits_binds_and_anonymous_volumes():
    body: dict = {}
    apply(body, ["/anon", "v:/d", "/h:/c:ro"], [], ["/run:size=1m", "/tmp"], ["other:ro"])
    assert body["Volumes"] == {"/anon": {}}
    assert body["HostConfig"] == {"Binds": ["v:/d", "/h:/c:ro"], "Tmpfs": {"/run": "size=1m", "/tmp": ""},
                                  "VolumesFrom": ["other:ro"]}


def test_ram_in_bytes():
    assert ram_in_bytes("64m") == 64 << 20 and ram_in_bytes("1g") == 1 << 30 and ram_in_bytes("512") == 512
    assert ram_in_bytes("10kb") == 10 << 10


@pytest.mark.parametrize("src,src_dir,dst,exists,is_dir,expected", [
    ("/a/file", False, "/d", True, True, ("/d", "file")),          # into an existing dir
    ("/a/file", False, "/d/new", False, False, ("/d", "new")),     # to a new file name
    ("/a/dir", True, "/d/new", False, False, ("/d", "new")),       # a dir to a new name
    ("/a/dir/.", True, "/d", True, True, ("/d", ".")),             # contents into a dir
    ("/a/dir", True, "/d", True, True, ("/d", "dir")),
])
def test_cp_plan(src, src_dir, dst, exists, is_dir, expected):
    assert cpcopy.plan(src, src_dir, dst, exists, is_dir) == expected


def test_cp_plan_errors_and_rebase():
    with pytest.raises(cpcopy.CopyError, match="cannot copy a directory to a file"):
        cpcopy.plan("/dir", True, "/file", True, False)
    with pytest.raises(cpcopy.CopyError, match="must exist"):
        cpcopy.plan("/file", False, "/missing/", False, False)
    assert cpcopy.rebase("dir/x/y", "dir", "new") == "new/x/y"
    assert cpcopy.rebase("./x", ".", "new") == "new/x"
    assert cpcopy.rebase(".", ".", "new") == "new"
