"""User namespaces without root: the spec codec, validation, remap parsing and spec changes,
and the launcher's pure helpers."""

from __future__ import annotations

import pytest

from dockyard.daemon import usernsremap as remap
from dockyard.errors import InvalidArgument
from dockyard.oci.runtime import IdMapping, Linux, Mount, Namespace, Process, Spec, from_json, to_json
from dockyard.core.mount import Mount as RootfsMount
from dockyard.runtime import userns_launch
from dockyard.runtime.validate import validate

MAPS = (IdMapping(0, 100000, 65536),)
NS = tuple(Namespace(t) for t in ("mount", "pid", "network"))


def _spec(namespaces=NS, uids=MAPS, gids=MAPS, mounts=()) -> Spec:
    return Spec(process=Process(args=("true",)), mounts=mounts,
                linux=Linux(namespaces=namespaces, uid_mappings=uids, gid_mappings=gids))


def test_codec_round_trips_mappings_with_spec_names() -> None:
    spec = _spec(NS + (Namespace("user"),))
    obj = to_json(spec)
    assert obj["linux"]["uidMappings"] == [{"containerID": 0, "hostID": 100000, "size": 65536}]
    assert from_json(obj) == spec
    assert "uidMappings" not in to_json(_spec(uids=(), gids=()))["linux"]


def test_validate_user_namespace_rules() -> None:
    validate(_spec(NS + (Namespace("user"),)))
    with pytest.raises(InvalidArgument, match="need to be enabled"):
        validate(_spec())
    with pytest.raises(InvalidArgument, match="no uid/gid mappings"):
        validate(_spec(NS + (Namespace("user"),), uids=()))
    with pytest.raises(InvalidArgument, match="container's root"):
        validate(_spec(NS + (Namespace("user"),), uids=(IdMapping(1, 100000, 10),)))
    with pytest.raises(InvalidArgument, match="joining"):
        validate(_spec(NS + (Namespace("user", "/proc/1/ns/user"),)))


def test_parse_option_and_maps() -> None:
    assert remap.parse_option("default") == ("dockremap", "dockremap")
    assert remap.parse_option("alice") == ("alice", "alice")
    assert remap.parse_option("alice:staff") == ("alice", "staff")
    with pytest.raises(InvalidArgument):
        remap.parse_option(":x")
    uids, gids = remap.maps_for("alice", 1000, "staff", 50, "alice:200000:10\n1000:300000:5\n", "staff:400000:65536\n")
    assert uids == (IdMapping(0, 200000, 10), IdMapping(10, 300000, 5))
    assert gids == (IdMapping(0, 400000, 65536),)
    with pytest.raises(InvalidArgument, match="subordinate"):
        remap.maps_for("bob", None, "bob", None, "", "")


def test_apply_adds_the_namespace_unless_host_and_refuses_privileged() -> None:
    r = remap.Remap("dockremap", "dockremap", MAPS, MAPS)
    spec = _spec(uids=(), gids=())
    spec = Spec(process=spec.process, linux=Linux(namespaces=NS, sysctl={remap.PING_RANGE: "0 2147483647"}))
    out = remap.apply(spec, {}, r)
    assert Namespace("user") in out.linux.namespaces and out.linux.uid_mappings == MAPS
    assert remap.PING_RANGE not in out.linux.sysctl
    assert remap.apply(spec, {"UsernsMode": "host"}, r) is spec
    assert remap.apply(spec, {}, None) is spec
    with pytest.raises(InvalidArgument, match="privileged mode is incompatible"):
        remap.apply(spec, {"Privileged": True}, r)
    with pytest.raises(InvalidArgument, match="invalid USER mode"):
        remap.apply(spec, {"UsernsMode": "private"}, r)


def test_layer_dirs_and_sysfs_without_a_network_namespace() -> None:
    overlay = RootfsMount("overlay", "overlay", options=("lowerdir=/l/2/fs:/l/1/fs", "upperdir=/l/3/fs",
                                                          "workdir=/l/3/work"))
    assert userns_launch.layer_dirs([overlay]) == (["/l/2/fs", "/l/1/fs"], ["/l/3/fs", "/l/3/work"])
    assert userns_launch.layer_dirs([RootfsMount("bind", "/l/1/fs", options=("rbind", "ro"))]) == (["/l/1/fs"], [])
    sysfs = (Mount("/sys", "sysfs", "sysfs", ("ro",)),)
    with_net = _spec(NS + (Namespace("user"),), mounts=sysfs)
    assert userns_launch.adapt_spec(with_net) is with_net
    host_net = _spec((Namespace("mount"), Namespace("user")), mounts=sysfs)
    assert userns_launch.adapt_spec(host_net).mounts[0].type == "bind"
