from pathlib import Path

from dockyard.core.containers import ContainerConfig
from dockyard.daemon.specgen import ContainerFiles, build_spec, hosts_file, resolv_conf
from dockyard.daemon.users import ExecUser
from dockyard.oci import runtime as oci


def config(**kw):
    base = dict(id="f" * 64, name="n", image="busybox", image_id="sha256:" + "0" * 64,
                created="x", path="echo", args=("hi",), env=("PATH=/bin",), hostname="h1")
    base.update(kw)
    return ContainerConfig(**base)


FILES = ContainerFiles(Path("/d/hostname"), Path("/d/hosts"), Path("/d/resolv.conf"))


def test_spec_basics_round_trip_through_json():
    spec = build_spec(config(working_dir="/w"), ExecUser(5, 6, (7,), "/home/u"), FILES, cgroup_parent="dy")
    assert spec.process.args == ("echo", "hi")
    assert spec.process.cwd == "/w"
    assert spec.process.user == oci.User(5, 6, (7,))
    assert "HOME=/home/u" in spec.process.env
    assert spec.linux.cgroups_path == "/dy/" + "f" * 64
    assert {n.type for n in spec.linux.namespaces} == {"pid", "network", "ipc", "uts", "mount"}
    dests = [m.destination for m in spec.mounts]
    assert dests[:6] == ["/proc", "/dev", "/dev/pts", "/sys", "/dev/mqueue", "/dev/shm"]
    assert ("/etc/hosts", "/d/hosts") in [(m.destination, m.source) for m in spec.mounts]
    assert "/proc/kcore" in spec.linux.masked_paths
    assert oci.from_json(oci.to_json(spec)) == spec


def test_home_from_image_env_kept_and_cwd_default():
    spec = build_spec(config(env=("HOME=/x",)), ExecUser(0, 0, (), "/root"), FILES)
    assert [e for e in spec.process.env if e.startswith("HOME=")] == ["HOME=/x"]
    assert spec.process.cwd == "/"


def test_hosts_and_resolv():
    assert "127.0.1.1\th1" in hosts_file("h1")
    assert resolv_conf("nameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch x\n") == "nameserver 10.0.0.2\nsearch x\n"
