"""-v / Binds and --mount / Mounts parsing against Docker's documented examples and messages."""

from __future__ import annotations

import pytest

from dockyard.core.volumes import MountPoint
from dockyard.daemon import mountspecs as ms
from dockyard.errors import InvalidArgument


@pytest.mark.parametrize("spec,type,src,dst,rw,prop", [
    ("/host:/ctr", "bind", "/host", "/ctr", True, "rprivate"),
    ("/host:/ctr:ro", "bind", "/host", "/ctr", False, "rprivate"),
    ("/host:/ctr:ro,rshared", "bind", "/host", "/ctr", False, "rshared"),
    ("/host:/ctr:z", "bind", "/host", "/ctr", True, "rprivate"),
    ("/host/../x/:/ctr/", "bind", "/x", "/ctr", True, "rprivate"),
])
def test_bind_strings(spec, type, src, dst, rw, prop):
    mp = ms.parse_bind(spec)
    assert (mp.type, mp.source, mp.destination, mp.rw, mp.propagation) == (type, src, dst, rw, prop)
    assert mp.create_source


def test_volume_strings():
    named = ms.parse_bind("data:/var/lib/data:ro,nocopy")
    assert (named.type, named.name, named.rw, named.copy_data, named.anonymous) == ("volume", "data", False, False, False)
    anon = ms.parse_bind("/data")
    assert anon.type == "volume" and anon.anonymous and anon.name == ""


@pytest.mark.parametrize("spec,message", [
    ("/foo:rw", "invalid volume specification: '/foo:rw'"),
    ("a:b:c:d", "invalid volume specification: 'a:b:c:d'"),
    ("vol:relative", "invalid mount config for type \"volume\": invalid mount path: 'relative' mount path must be absolute"),
    ("/h:/c:rw,ro", "invalid mode: rw,ro"),
    ("/h:/c:bogus", "invalid mode: bogus"),
    ("/h:/", "invalid specification: destination can't be '/'"),
    ("a@b:/c", "\"a@b\" includes invalid characters for a local volume name"),
])
def test_bad_bind_strings(spec, message):
    with pytest.raises(InvalidArgument) as err:
        ms.parse_bind(spec)
    assert message in err.value.message


def test_mount_objects():
    bind = ms.parse_mount({"Type": "bind", "Source": "/srv", "Target": "/app", "ReadOnly": True,
                           "BindOptions": {"Propagation": "rslave"}})
    assert (bind.source, bind.rw, bind.propagation, bind.create_source) == ("/srv", False, "rslave", False)
    vol = ms.parse_mount({"Type": "volume", "Source": "vv", "Target": "/d",
                          "VolumeOptions": {"NoCopy": True, "DriverConfig": {"Options": {"type": "tmpfs"}}}})
    assert (vol.name, vol.copy_data, dict(vol.volume_options)) == ("vv", False, {"type": "tmpfs"})
    tmp = ms.parse_mount({"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 65536, "Mode": 0o1770}})
    assert tmp.options == ("size=65536", "mode=1770")


@pytest.mark.parametrize("obj,message", [
    ({"Type": "foo", "Target": "/x"}, 'invalid mount config for type "foo": mount type unknown'),
    ({"Type": "bind", "Target": "/x"}, 'invalid mount config for type "bind": field Source must not be empty'),
    ({"Type": "volume"}, 'invalid mount config for type "volume": field Target must not be empty'),
    ({"Type": "tmpfs", "Source": "x", "Target": "/t"}, 'field Source must not be specified'),
    ({"Type": "bind", "Source": "/s", "Target": "/t", "VolumeOptions": {"NoCopy": True}},
     'invalid mount config for type "bind": field VolumeOptions must not be specified'),
    ({"Type": "volume", "Target": "rel"}, "invalid mount path: 'rel' mount path must be absolute"),
])
def test_bad_mount_objects(obj, message):
    with pytest.raises(InvalidArgument) as err:
        ms.parse_mount(obj)
    assert message in err.value.message


def test_host_config_duplicates_missing_bind_and_image_volumes():
    host = {"Binds": ["vv:/data"], "Tmpfs": {"/run": "size=64m"}}
    points = ms.parse_host_config(host, [], ["/data", "/var/log"], lambda p: True)
    assert [(p.type, p.destination, p.anonymous) for p in points] == [
        ("volume", "/data", False), ("tmpfs", "/run", False), ("volume", "/var/log", True)]
    with pytest.raises(InvalidArgument, match="Duplicate mount point: /data"):
        ms.parse_host_config({"Binds": ["aa:/data", "/h:/data"]}, [], [], lambda p: True)
    with pytest.raises(InvalidArgument, match="bind source path does not exist: /nope"):
        ms.parse_host_config({"Mounts": [{"Type": "bind", "Source": "/nope", "Target": "/x"}]}, [], [],
                             lambda p: False)


def test_tmpfs_defaults_and_override():
    mp = ms.parse_tmpfs("/run", "exec,size=1m")
    assert ms.tmpfs_options(mp) == ("nosuid", "nodev", "exec", "size=1m")


def test_volumes_from_keeps_ours_and_applies_mode():
    ours = [MountPoint("bind", "/a", source="/x")]
    theirs = [MountPoint("volume", "/a", name="v1"), MountPoint("volume", "/b", name="v2", anonymous=True),
              MountPoint("tmpfs", "/t")]
    out = ms.with_volumes_from(ours, "other:ro", lambda ref: theirs)
    assert [(p.destination, p.name, p.rw, p.anonymous) for p in out] == [("/a", "", True, False),
                                                                          ("/b", "v2", False, False)]
    with pytest.raises(InvalidArgument):
        ms.with_volumes_from([], "other:zz", lambda ref: theirs)


def test_sort_for_mounting_parents_first():
    pts = [MountPoint("tmpfs", "/a/b/c"), MountPoint("tmpfs", "/a"), MountPoint("tmpfs", "/a/b")]
    assert [p.destination for p in ms.sort_for_mounting(pts)] == ["/a", "/a/b", "/a/b/c"]
