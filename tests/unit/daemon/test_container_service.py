"""ContainerService with fakes: the daemon's container logic without root."""

import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from dockyard.core.mount import Mount
from dockyard.daemon.services.containers import ContainerPaths, ContainerService
from dockyard.errors import AlreadyExists, Conflict, ImageNotFound, InvalidArgument, NotFound, NotModified, StartFailed
from dockyard.oci.image import ImageConfig, RunConfig
from dockyard.testing.containers import MemoryContainerStore
from dockyard.testing.runtime import FakeRuntime

PASSWD = b"root:x:0:0:root:/root:/bin/sh\nwww:x:33:33::/var/www:/bin/false\n"


@dataclass
class Img:
    id: str
    name: str
    config: ImageConfig


class FakeImages:
    def __init__(self):
        self.rootfs: set[str] = set()

    def resolve(self, ref):
        if ref not in ("busybox", "busybox:latest"):
            raise ImageNotFound(f"No such image: {ref}")
        return Img("sha256:" + "1" * 64, "docker.io/library/busybox:latest",
                   ImageConfig("amd64", "linux", RunConfig(cmd=("sh",), env=("PATH=/bin",)), ()))

    def prepare_rootfs(self, key, image_id):
        self.rootfs.add(key)
        return [Mount("bind", "/x", options=("rbind",))]

    def remove_rootfs(self, key):
        self.rootfs.discard(key)

    def read_rootfs_file(self, key, path):
        return PASSWD if path == "etc/passwd" else None


@pytest.fixture
def svc(tmp_path):
    rt = FakeRuntime()
    images = FakeImages()
    s = ContainerService(MemoryContainerStore(), images, rt,
                         ContainerPaths(tmp_path / "containers", tmp_path / "bundles",
                                        host_resolv_conf=tmp_path / "resolv.conf"))
    s.rt, s.images, s.tmp = rt, images, tmp_path
    return s


def wait_in_thread(svc, id, condition):
    result = {}
    t = threading.Thread(target=lambda: result.update(svc.wait(id, condition)))
    t.start()
    return t, result


def test_run_flow_attach_before_start_sees_all_output(svc):
    id = svc.create({"Image": "busybox", "Cmd": ["echo", "hello"]}, None)["Id"]
    att = svc.attach(id, stdout=True, stderr=True, logs=False, stream=True)
    t, result = wait_in_thread(svc, id, "next-exit")
    svc.start(id)
    assert svc.inspect_json(id)["State"]["Running"] is True
    svc.rt.exit(id, 0, [(1, b"hello\n"), (2, b"oops\n")])
    assert list(att) == [(1, b"hello\n"), (2, b"oops\n")]
    t.join(5)
    assert result == {"StatusCode": 0, "Error": None}
    st = svc.inspect_json(id)["State"]
    assert st["Status"] == "exited" and st["ExitCode"] == 0 and st["Pid"] == 0
    assert ("delete", id) in svc.rt.calls  # runtime state released at exit
    assert list(svc.logs(id, stdout=True, stderr=False)) == [(1, b"hello\n")]


def test_auto_remove_leaves_nothing(svc):
    id = svc.create({"Image": "busybox", "Cmd": ["true"], "HostConfig": {"AutoRemove": True}}, "gone")["Id"]
    t, result = wait_in_thread(svc, id, "removed")
    svc.start(id)
    svc.rt.exit(id, 3)
    t.join(5)
    assert result["StatusCode"] == 3
    with pytest.raises(NotFound):
        svc.inspect_json(id)
    assert id not in svc.images.rootfs
    assert not (svc.tmp / "containers" / id).exists()
    assert not (svc.tmp / "bundles" / id).exists()


def test_start_failure_reports_exit_code_and_keeps_created(svc):
    id = svc.create({"Image": "busybox", "Cmd": ["nope"]}, "bad")["Id"]
    with pytest.raises(StartFailed) as err:
        svc.start(id)
    assert err.value.exit_code == 127
    assert "executable file not found" in err.value.message
    st = svc.inspect_json(id)["State"]
    assert st["Status"] == "created" and st["ExitCode"] == 127
    assert not (svc.tmp / "bundles" / id).exists()


def test_start_failure_with_auto_remove_removes(svc):
    id = svc.create({"Image": "busybox", "Cmd": ["nope"], "HostConfig": {"AutoRemove": True}}, None)["Id"]
    with pytest.raises(StartFailed):
        svc.start(id)
    with pytest.raises(NotFound):
        svc.inspect_json(id)


def test_names_conflict_and_lookup(svc):
    id = svc.create({"Image": "busybox"}, "web")["Id"]
    with pytest.raises(AlreadyExists, match='The container name "/web" is already in use'):
        svc.create({"Image": "busybox"}, "web")
    assert svc.inspect_json("web")["Id"] == id
    assert svc.inspect_json("/web")["Name"] == "/web"
    assert svc.inspect_json(id[:5])["Id"] == id
    with pytest.raises(InvalidArgument, match="Invalid container name"):
        svc.create({"Image": "busybox"}, "-bad")
    with pytest.raises(NotFound, match="No such container: zzz"):
        svc.start("zzz")


def test_missing_image_creates_nothing(svc):
    with pytest.raises(ImageNotFound):
        svc.create({"Image": "nope"}, "xx")
    assert svc.list_json(all=True) == []


def test_failed_create_rolls_back(svc, monkeypatch):
    def boom(key, image_id):
        raise OSError("disk full")
    monkeypatch.setattr(svc.images, "prepare_rootfs", boom)
    with pytest.raises(OSError):
        svc.create({"Image": "busybox"}, "xx")
    assert svc.list_json(all=True) == []
    assert list((svc.tmp / "containers").glob("*")) == [] if (svc.tmp / "containers").exists() else True


def test_state_errors(svc):
    id = svc.create({"Image": "busybox", "Cmd": ["sleep"]}, "sl")["Id"]
    svc.start(id)
    with pytest.raises(NotModified):
        svc.start(id)
    with pytest.raises(Conflict, match="force remove"):
        svc.remove(id)
    svc.remove(id, force=True)
    assert ("kill", id) in svc.rt.calls
    assert svc.list_json(all=True) == []


def test_list_filters_and_order(svc):
    a = svc.create({"Image": "busybox", "Labels": {"app": "x"}}, "aa")["Id"]
    b = svc.create({"Image": "busybox"}, "bb")["Id"]
    assert svc.list_json() == []
    assert [c["Id"] for c in svc.list_json(all=True)] == [b, a]
    assert [c["Id"] for c in svc.list_json(all=True, filters={"label": ["app=x"]})] == [a]
    assert [c["Id"] for c in svc.list_json(all=True, filters={"name": ["bb"]})] == [b]
    assert [c["Id"] for c in svc.list_json(limit=1)] == [b]
    with pytest.raises(InvalidArgument, match="invalid filter 'bogus'"):
        svc.list_json(filters={"bogus": ["1"]})
    s = svc.list_json(all=True)[0]
    assert s["Names"] == ["/bb"] and s["Status"] == "Created" and s["Command"] == "sh"


def test_user_resolved_from_image_passwd(svc):
    import json
    id = svc.create({"Image": "busybox", "User": "www"}, None)["Id"]
    svc.start(id)
    spec = json.loads((svc.tmp / "bundles" / id / "config.json").read_text())
    assert spec["process"]["user"] == {"uid": 33, "gid": 33, "additionalGids": [33]}
    bad = svc.create({"Image": "busybox", "User": "ghost"}, None)["Id"]
    with pytest.raises(InvalidArgument, match="unable to find user ghost"):
        svc.start(bad)


def test_wait_not_running_returns_at_once(svc):
    id = svc.create({"Image": "busybox"}, None)["Id"]
    assert svc.wait(id) == {"StatusCode": 0, "Error": None}
    with pytest.raises(InvalidArgument, match="invalid condition"):
        svc.wait(id, "soon")


def test_any_start_failure_removes_auto_remove_container(svc):
    id = svc.create({"Image": "busybox", "User": "ghost", "HostConfig": {"AutoRemove": True}}, None)["Id"]
    with pytest.raises(InvalidArgument):
        svc.start(id)
    with pytest.raises(NotFound):
        svc.inspect_json(id)
    kept = svc.create({"Image": "busybox", "User": "ghost"}, None)["Id"]
    with pytest.raises(InvalidArgument):
        svc.start(kept)
    st = svc.inspect_json(kept)["State"]
    assert st["Status"] == "created" and "unable to find user ghost" in st["Error"] and st["ExitCode"] == 128


def test_process_exiting_inside_start_finishes_after_it_started(svc):
    # A process quicker than the daemon's bookkeeping: StartedAt is stamped before it runs.
    svc.rt.script("true", [], 0)
    id = svc.create({"Image": "busybox", "Cmd": ["true"]}, None)["Id"]
    t, result = wait_in_thread(svc, id, "not-running")
    svc.start(id)
    t.join(5)
    st = svc.inspect_json(id)["State"]
    assert st["Status"] == "exited"
    assert st["FinishedAt"] >= st["StartedAt"] > "0001"
