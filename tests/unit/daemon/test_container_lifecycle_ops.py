"""stop, kill, restart, pause, rename, update, prune, top and the events
they publish: ContainerService over FakeRuntime, no root, no sleeping."""

import pytest

from dockyard.daemon.events import InMemoryEventBus
from dockyard.daemon.services.containers import ContainerPaths, ContainerService
from dockyard.errors import AlreadyExists, Conflict, InvalidArgument, NotFound, NotModified
from dockyard.testing.containers import MemoryContainerStore
from dockyard.testing.runtime import FakeRuntime

from .test_container_service import FakeImages


@pytest.fixture
def svc(tmp_path):
    rt = FakeRuntime()
    bus = InMemoryEventBus()
    s = ContainerService(MemoryContainerStore(), FakeImages(), rt,
                         ContainerPaths(tmp_path / "containers", tmp_path / "bundles",
                                        host_resolv_conf=tmp_path / "resolv.conf"), events=bus)
    s.rt, s.bus = rt, bus
    return s


def actions(svc, id=None):
    return [e.action for e in svc.bus.history() if id is None or e.actor_id == id]


def running(svc, name="ctr", **body):
    cid = svc.create({"Image": "busybox", "Cmd": ["sleep", "9"], **body}, name)["Id"]
    svc.start(cid)
    return cid


def test_stop_sends_signal_then_records_exit_and_events(svc):
    cid = running(svc)
    svc.stop(cid, timeout=5)
    st = svc.inspect_json(cid)["State"]
    assert st["Status"] == "exited" and st["ExitCode"] == 128 + 15
    assert actions(svc, cid) == ["create", "start", "kill", "die", "stop"]
    die = [e for e in svc.bus.history() if e.action == "die"][0]
    assert die.attributes["exitCode"] == "143" and die.attributes["name"] == "ctr"
    with pytest.raises(NotModified):
        svc.stop(cid)


def test_kill_with_signal_and_errors(svc):
    cid = running(svc)
    with pytest.raises(InvalidArgument, match="Invalid signal: NOPE"):
        svc.kill(cid, "NOPE")
    svc.kill(cid, "SIGKILL")
    assert svc.inspect_json(cid)["State"]["ExitCode"] == 137
    with pytest.raises(Conflict, match=f"Cannot kill container: ctr: Container {cid} is not running"):
        svc.kill("ctr")


def test_pause_unpause_state_and_errors(svc):
    cid = running(svc)
    svc.pause(cid)
    st = svc.inspect_json(cid)["State"]
    assert st["Status"] == "paused" and st["Paused"] and st["Running"]
    assert svc.rt.procs[cid].paused
    with pytest.raises(Conflict, match="is already paused"):
        svc.pause(cid)
    with pytest.raises(Conflict, match="unpause"):
        svc.start(cid)
    assert svc.counts() == {"running": 0, "paused": 1, "stopped": 0}
    svc.unpause(cid)
    assert not svc.rt.procs[cid].paused
    with pytest.raises(Conflict, match="is not paused"):
        svc.unpause(cid)
    assert actions(svc, cid)[-2:] == ["pause", "unpause"]


def test_rm_force_of_paused_container_thaws_it(svc):
    cid = running(svc)
    svc.pause(cid)
    svc.remove(cid, force=True)
    assert ("resume", cid) in svc.rt.calls
    assert actions(svc, cid)[-3:] == ["kill", "die", "destroy"]


def test_restart_and_restart_policy(svc):
    cid = running(svc)
    svc.restart(cid, timeout=1)
    assert svc.inspect_json(cid)["State"]["Status"] == "running"
    assert actions(svc, cid)[-2:] == ["start", "restart"]
    svc.update(cid, {"RestartPolicy": {"Name": "always"}})
    svc.rt.exit(cid, 1)  # the process dies on its own: the policy restarts it
    import time

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # count is saved first, then the start completes
        info = svc.inspect_json(cid)
        if info["RestartCount"] >= 1 and info["State"]["Status"] == "running":
            break
        time.sleep(0.01)
    info = svc.inspect_json(cid)
    assert info["RestartCount"] == 1 and info["State"]["Status"] == "running"
    svc.stop(cid)  # a manual stop is not undone by the policy
    assert svc.inspect_json(cid)["State"]["Status"] == "exited"


def test_rename_rules(svc):
    a = svc.create({"Image": "busybox"}, "aa")["Id"]
    svc.create({"Image": "busybox"}, "bb")
    svc.rename("aa", "a2")
    assert svc.inspect_json(a)["Name"] == "/a2"
    with pytest.raises(AlreadyExists, match="already in use"):
        svc.rename("a2", "bb")
    with pytest.raises(InvalidArgument, match="Invalid container name"):
        svc.rename("a2", "no spaces")
    with pytest.raises(InvalidArgument, match="same name"):
        svc.rename("a2", "a2")
    ev = [e for e in svc.bus.history() if e.action == "rename"][0]
    assert ev.attributes["oldName"] == "/aa" and ev.attributes["name"] == "a2"


def test_update_validates_and_applies(svc):
    cid = running(svc)
    svc.update(cid, {"Memory": 64 << 20, "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3}})
    hc = svc.inspect_json(cid)["HostConfig"]
    assert hc["Memory"] == 64 << 20 and hc["RestartPolicy"]["MaximumRetryCount"] == 3
    assert svc.rt.procs[cid].resources.memory_limit == 64 << 20
    with pytest.raises(InvalidArgument, match="unknown policy"):
        svc.update(cid, {"RestartPolicy": {"Name": "sometimes"}})
    rm = svc.create({"Image": "busybox", "HostConfig": {"AutoRemove": True}}, "rm")["Id"]
    with pytest.raises(InvalidArgument, match="AutoRemove"):
        svc.update(rm, {"RestartPolicy": {"Name": "always"}})


def test_prune_removes_stopped_matching_containers(svc):
    keep = svc.create({"Image": "busybox", "Labels": {"keep": "1"}}, "keep")["Id"]
    gone = svc.create({"Image": "busybox"}, "gone")["Id"]
    live = running(svc, "live")
    out = svc.prune({"label!": ["keep"]})
    assert out["ContainersDeleted"] == [gone] and out["SpaceReclaimed"] == 0
    assert {r["Id"] for r in svc.list_json(all=True)} == {keep, live}
    assert svc.prune({"label": ["nothing"]}) == {"ContainersDeleted": None, "SpaceReclaimed": 0}
    with pytest.raises(InvalidArgument):
        svc.prune({"bogus": ["x"]})


def test_top_needs_a_running_container(svc):
    cid = svc.create({"Image": "busybox"}, "tt")["Id"]
    with pytest.raises(Conflict, match="is not running"):
        svc.top(cid)
    with pytest.raises(NotFound):
        svc.top("missing")


def test_list_filters_through_service(svc):
    a = svc.create({"Image": "busybox", "Labels": {"tier": "web"}}, "web")["Id"]
    b = running(svc, "db")
    ids = lambda **kw: [r["Id"] for r in svc.list_json(**kw)]  # noqa: E731
    assert ids() == [b]
    assert ids(filters={"status": ["created"]}) == [a]  # a status filter implies all
    assert ids(all=True, filters={"label": ["tier=web"]}) == [a]
    assert ids(all=True, filters={"since": ["web"]}) == [b]
    assert ids(all=True, filters={"before": ["db"]}) == [a]
    assert ids(all=True, filters={"ancestor": ["busybox"]}) == [b, a]
    assert ids(all=True, filters={"name": ["^/w"]}) == [a]
    with pytest.raises(InvalidArgument, match="invalid filter 'status=nope'"):
        ids(filters={"status": ["nope"]})
    with pytest.raises(NotFound):
        ids(filters={"before": ["missing"]})
