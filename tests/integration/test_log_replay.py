"""attach with logs=1 replays every log driver's files, and inspect's LogPath is Docker's per driver."""

from __future__ import annotations

import json

import pytest

from dockyard.client.api import APIClient
from dockyard.core.runtime import STDERR, STDOUT

from .conftest import Daemon

pytestmark = pytest.mark.root


def _replay(api: APIClient, name: str) -> tuple[bytes, bytes]:
    """attach?logs=1&stream=0 read to EOF (our client keeps the bytes read with the headers; docker-py
    loses them now and then, against dockerd too)."""
    att = api.attach(name, tty=False, logs=True, stream=False)
    out = {STDOUT: b"", STDERR: b""}
    try:
        for stream, data in att.output():
            out[stream] += data
    finally:
        att.close()
    return out[STDOUT], out[STDERR]


def _log_path(daemon: Daemon, name: str) -> str:
    return json.loads(daemon.cli("inspect", name, check=True).stdout)[0]["LogPath"]


@pytest.mark.parametrize("driver", ["local", "json-file", "none"])
def test_attach_logs_replay_and_log_path(daemon: Daemon, driver: str) -> None:
    name = f"replay-{driver}"
    daemon.cli("create", "--name", name, "--log-driver", driver, "busybox", "sh", "-c", "echo out; echo err >&2",
               check=True)
    api = APIClient(daemon.host)
    try:
        assert _log_path(daemon, name) == ""  # dockerd sets it when the logger starts
        daemon.cli("start", name, check=True)
        assert daemon.cli("wait", name, check=True, timeout=30).stdout.strip() == b"0"
        out = _replay(api, name)
        path = _log_path(daemon, name)
        if driver == "none":
            assert out == (b"", b"") and path == ""
        else:
            assert out == (b"out\n", b"err\n")
            cid = json.loads(daemon.cli("inspect", name, check=True).stdout)[0]["Id"]
            want = str(daemon.data_root / "containers" / cid / f"{cid}-json.log")
            assert path == ("" if driver == "local" else want)  # local's file stays private, as Docker's
    finally:
        api.close()
        daemon.cli("rm", "-f", name)
