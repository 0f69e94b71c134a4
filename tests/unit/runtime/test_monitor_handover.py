"""When the Python shim hands a container to the native monitor, and with what (runtime/monitor/handover.py)."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from types import SimpleNamespace

import pytest

from dockyard.daemon.config import from_args
from dockyard.runtime import messages as m, monitor
from dockyard.runtime.jsonlog import JsonLogEncoder
from dockyard.runtime.logrotate import LogWriter
from dockyard.runtime.monitor import handover
from dockyard.runtime.shim import _Client, _Sink


@pytest.fixture
def shim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(monitor.ENV_PATH, "/bin/true")  # any executable: argv only checks it exists
    a, b = socket.socketpair()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client = _Client(a)
    client.attached = True
    enc = JsonLogEncoder()
    enc.feed(1, b"no newline yet")
    s = SimpleNamespace(
        annotations={"dockyard.log.max-size": "2048", "dockyard.log.max-file": "3"}, exit=None, execs={},
        pending_start=None, chan_open=False, stdin=None, clients={a.fileno(): client}, out={7: 1, 8: 2},
        listener=listener, init_pid=4242, master=-1, state_dir=tmp_path, req=SimpleNamespace(bundle="/b"),
        log=LogWriter(tmp_path / "c-json.log", max_size=2048, max_file=3),
        cgroup=SimpleNamespace(path=Path("/sys/fs/cgroup/x")), _encoder=enc)
    yield s
    for sock in (a, b, listener):
        sock.close()
    s.log.close()


def test_argv_carries_fds_clients_log_and_partial_lines(shim) -> None:
    args = handover.argv(shim)
    assert args is not None and args[0] == "/bin/true"
    kv = dict(x.split("=", 1) for x in args[1:] if not x.startswith("client="))
    assert kv["stdout"] == "7" and kv["stderr"] == "8" and kv["stdin"] == "-1" and kv["init"] == "4242"
    assert kv["max_size"] == "2048" and kv["max_file"] == "3" and kv["driver"] == "json-file"
    assert kv["oom"] == "/sys/fs/cgroup/x/memory.events"
    assert bytes.fromhex(kv["partial1"]) == b"no newline yet" and "partial2" not in kv
    (client,) = [x for x in args if x.startswith("client=")]
    assert client.endswith(":1:0")  # attached, not waiting


@pytest.mark.parametrize("ann", [{"dockyard.log.driver": "local"}, {"dockyard.log.compress": "true"}])
def test_unsupported_features_never_hand_over(shim, ann) -> None:
    shim.annotations = ann
    assert handover.argv(shim) is None and handover.hand_over(shim) is False


def test_in_flight_state_postpones(shim) -> None:
    (client,) = shim.clients.values()
    client.decoder.feed(m.encode(m.Attach())[:3])  # half a frame read
    assert handover.argv(shim) is None and handover.hand_over(shim) is True
    client.decoder = m.Decoder()
    r, w = os.pipe()
    shim.stdin = _Sink(w)
    shim.stdin.buf += b"unwritten"
    assert handover.argv(shim) is None
    shim.stdin.buf.clear()
    assert handover.argv(shim) is not None
    shim.stdin._close_now()
    os.close(r)


def test_off_mode_and_missing_binary(shim, monkeypatch: pytest.MonkeyPatch) -> None:
    monitor.set_mode("off")
    try:
        assert monitor.binary() is None and handover.hand_over(shim) is False
    finally:
        monitor.set_mode("auto")
    monkeypatch.setenv(monitor.ENV_PATH, "/nonexistent/dockyard-monitor")
    assert monitor.binary() is None


def test_daemon_flag(tmp_path: Path) -> None:
    (tmp_path / "daemon.json").write_text("{}")
    base = ["--config-file", str(tmp_path / "daemon.json")]
    assert from_args([*base, "--native-monitor", "off"]).native_monitor == "off"
    assert from_args(base).native_monitor == "auto"
    with pytest.raises(SystemExit):
        from_args([*base, "--native-monitor", "maybe"])
