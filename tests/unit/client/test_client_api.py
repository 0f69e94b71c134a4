"""APIClient against the in-process server with fake services."""

from __future__ import annotations

import pytest
from apifakes import running_server, tar_with  # noqa: F401

from dockyard import errors
from dockyard.client.api import APIClient
from dockyard.client.errors import error_from_response, is_from_daemon
from dockyard.client.transport import parse_host


@pytest.fixture
def api(running_server):
    client = APIClient(running_server.url)
    yield client
    client.close()


def test_status_to_kind_table():
    cases = {304: errors.NotModified, 400: errors.InvalidArgument, 401: errors.Unauthorized,
             403: errors.PermissionDenied, 404: errors.NotFound, 409: errors.Conflict,
             500: errors.Internal, 501: errors.NotImplemented_, 503: errors.Unavailable, 418: errors.Internal}
    for status, kind in cases.items():
        exc = error_from_response(status, b'{"message": "m"}')
        assert isinstance(exc, kind) and str(exc) == "m" and is_from_daemon(exc)
    exc = error_from_response(400, b'{"message": "exec failed", "ExitCode": 127}')
    assert isinstance(exc, errors.StartFailed) and exc.exit_code == 127
    assert str(error_from_response(502, b"<html>bad gateway</html>")) == "<html>bad gateway</html>"


def test_unreachable_and_hosts(tmp_path):
    with pytest.raises(errors.DaemonUnreachable, match="Cannot connect to the Dockyard daemon"):
        APIClient("unix://" + str(tmp_path / "none.sock")).ping()
    with pytest.raises(errors.InvalidArgument):
        parse_host("tcp://1.2.3.4:2375")
    calls = []
    client = APIClient("unix://" + str(tmp_path / "none.sock"), on_unreachable=lambda: calls.append(1) or False)
    with pytest.raises(errors.DaemonUnreachable):
        client.ping()
    assert calls == [1]


def test_keepalive_reuses_connection(api, running_server):
    assert api.ping()
    conn = api.transport._idle
    assert conn is not None
    assert api.version()["ApiVersion"] == "1.47"
    assert api.transport._idle is conn


def test_run_flow(api, running_server):
    cid = api.create_container({"Image": "busybox", "Cmd": ["fail", "5"]}, "x")["Id"]
    attached = api.attach(cid, tty=False)
    attached.close_write()
    waiter = api.wait(cid, "next-exit")
    api.start(cid)
    assert list(attached.output()) == [(2, b"failing\n")]
    attached.close()
    assert waiter.result() == {"StatusCode": 5, "Error": None}
    assert list(api.logs(cid, tty=False)) == [(2, b"failing\n")]
    assert [c["Id"] for c in api.containers(all=True)] == [cid]
    with pytest.raises(errors.NotFound, match="No such container: nope"):
        api.inspect_container("nope")
    with pytest.raises(errors.NotFound):
        api.attach("nope", tty=False)
    api.remove_container(cid)


def test_start_failure_carries_exit_code(api):
    api.create_container({"Image": "busybox", "Cmd": ["missing"]}, "m")
    with pytest.raises(errors.StartFailed) as info:
        api.start("m")
    assert info.value.exit_code == 127


def test_images_and_load(api):
    assert api.inspect_image("ghcr.io/org/app:1.0")["RepoTags"] == ["ghcr.io/org/app:1.0"]
    assert len(api.images()) == 2
    import io

    msgs = list(api.load(io.BytesIO(tar_with("a:1.tag", "b:2.tag", size=70000))))
    assert msgs == [{"stream": "Loaded image: a:1\n"}, {"stream": "Loaded image: b:2\n"}]
