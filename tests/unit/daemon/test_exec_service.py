"""ExecService over FakeRuntime: create/start/inspect/resize/stdin without root."""

import pytest

from dockyard.daemon.services.execs import ExecService
from dockyard.errors import Conflict, InvalidArgument, NotFound, RuntimeFailure

from .test_container_service import svc  # noqa: F401  (the ContainerService fixture over FakeRuntime)


@pytest.fixture
def running(svc):  # noqa: F811
    id = svc.create({"Image": "busybox", "Cmd": ["sh"], "Env": ["A=container", "B=kept"], "User": "www",
                     "WorkingDir": "/srv"}, None)["Id"]
    svc.start(id)
    execs = ExecService(svc._store, svc.images, svc.rt)
    return svc, execs, id


def test_attached_exec_environment_user_and_exit_code(running):
    svc, execs, id = running
    eid = execs.create(id, {"Cmd": ["env"], "Env": ["A=exec"], "AttachStdout": True, "AttachStderr": True})["Id"]
    run = execs.start(eid, detach=False)
    spec = svc.rt.execs[eid].spec
    assert spec.env[:2] == ("A=exec", "B=kept") and "HOME=/var/www" in spec.env
    assert (spec.uid, spec.gid, spec.cwd, spec.args) == (33, 33, "/srv", ("env",))
    info = execs.inspect_json(eid)
    assert info["Running"] is True and info["Pid"] == svc.rt.execs[eid].pid and info["ExitCode"] is None
    svc.rt.exec_exit(eid, 3, [(1, b"out\n"), (2, b"err\n")])
    assert list(run) == [(1, b"out\n"), (2, b"err\n")]
    info = execs.inspect_json(eid)
    assert (info["Running"], info["ExitCode"]) == (False, 3)  # recorded before the stream ended
    with pytest.raises(Conflict, match="has already run"):
        execs.start(eid, detach=False)


def test_stdin_tty_resize_and_detached(running):
    svc, execs, id = running
    eid = execs.create(id, {"Cmd": ["sh"], "Tty": True, "AttachStdin": True, "AttachStdout": True})["Id"]
    run = execs.start(eid, detach=False)
    assert "TERM=xterm" in svc.rt.execs[eid].spec.env and svc.rt.execs[eid].spec.stdin
    run.write(b"ls\n")
    run.close_stdin()
    assert (svc.rt.execs[eid].data, svc.rt.execs[eid].eof) == (b"ls\n", True)
    execs.resize(eid, 40, 120)
    assert svc.rt.resizes == [(id, 40, 120, eid)]
    svc.rt.exec_exit(eid, 0)
    list(run)
    with pytest.raises(Conflict):
        execs.resize(eid, 1, 1)
    detached = execs.create(id, {"Cmd": ["sleep"]})["Id"]
    assert execs.start(detached, detach=True) is None
    assert execs.inspect_json(detached)["Running"] is True


def test_missing_binary_records_127_and_container_exit_ends_execs(running):
    svc, execs, id = running
    eid = execs.create(id, {"Cmd": ["nope"]})["Id"]
    with pytest.raises(RuntimeFailure):
        execs.start(eid, detach=False)
    assert execs.inspect_json(eid)["ExitCode"] == 127
    live = execs.create(id, {"Cmd": ["sh"], "AttachStdout": True})["Id"]
    run = execs.start(live, detach=False)
    svc.rt.exit(id, 0)
    assert list(run) == []
    assert execs.inspect_json(live)["ExitCode"] == 137  # its shim went with the container


def test_bad_requests_and_unknown_ids(running):
    svc, execs, id = running
    with pytest.raises(InvalidArgument, match="No exec command specified"):
        execs.create(id, {"Cmd": []})
    with pytest.raises(InvalidArgument, match="needs to be an absolute path"):
        execs.create(id, {"Cmd": ["x"], "WorkingDir": "rel"})
    with pytest.raises(NotFound, match="No such exec instance"):
        execs.inspect_json("0" * 64)


def test_records_do_not_survive_a_restart(running):
    """A new ExecService (a restarted daemon) knows no exec: 404, as dockerd's in-memory exec store."""
    svc, execs, id = running
    eid = execs.create(id, {"Cmd": ["sh"]})["Id"]
    with pytest.raises(NotFound):
        ExecService(svc._store, svc.images, svc.rt).inspect_json(eid)


def test_exec_in_a_stopped_container_is_a_conflict(running):
    svc, execs, id = running
    svc.rt.exit(id, 0)
    svc.wait(id, "not-running")
    with pytest.raises(Conflict, match="is not running"):
        execs.create(id, {"Cmd": ["sh"]})
