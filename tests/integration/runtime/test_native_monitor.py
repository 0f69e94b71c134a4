"""The native monitor (runtime/monitor/dymon.c) serves running containers.

Each test runs a private daemon with a freshly built monitor (DOCKYARD_MONITOR_PATH),
so these prove the monitor whatever the daemons of the other suites use.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import time
from pathlib import Path

import pytest

from dockyard.runtime import messages as m, monitor
from dockyard.runtime import state as st

from .. import conftest
from ..conftest import Daemon, start_daemon, stop_daemon


@pytest.fixture(scope="module")
def mon_daemon(tmp_path_factory: pytest.TempPathFactory, seed_tar: Path):
    if os.geteuid() != 0:
        pytest.skip("needs root")
    assert shutil.which("gcc"), "gcc is needed to build the monitor (setup.sh installs it)"
    binary = monitor.build(tmp_path_factory.mktemp("monbin") / "dockyard-monitor")
    saved = dict(conftest.ENV)
    conftest.ENV[monitor.ENV_PATH] = str(binary)
    try:  # only this daemon sees the private build: daemons started later in the module must not
        d = start_daemon(tmp_path_factory.mktemp("mond"))
    finally:
        conftest.ENV.clear()
        conftest.ENV.update(saved)
    try:
        d.cli("load", "-i", str(seed_tar), check=True)
        yield d
    finally:
        stop_daemon(d)


WAIT_GO = "while [ ! -e /go ]; do sleep 0.02; done"  # the test says when (no race with the hand-over)


def _state(d: Daemon, cid: str) -> dict:
    return json.loads((d.exec_root / "runtime" / cid / "state.json").read_text())


def _wait_monitor(d: Daemon, cid: str) -> int:
    """The shim pid once it has become the monitor (the hand-over follows Start's reply)."""
    shim = _state(d, cid)["shim_pid"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if os.readlink(f"/proc/{shim}/exe").endswith("dockyard-monitor"):
            return shim
        time.sleep(0.01)
    raise AssertionError(f"shim {shim} is {os.readlink(f'/proc/{shim}/exe')}")


def test_logs_exec_kill_wait_through_monitor(mon_daemon: Daemon) -> None:
    d = mon_daemon
    cid = d.cli("run", "-d", "busybox", "sh", "-c", "echo out; echo err >&2; printf partial; sleep 60",
                check=True).stdout.decode().strip()
    try:
        shim = _wait_monitor(d, cid)
        init = _state(d, cid)["pid"]
        assert Path(f"/proc/{init}/stat").read_text().rsplit(")", 1)[1].split()[1] == str(shim)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            cp = d.cli("logs", cid, check=True)
            if cp.stdout == b"out\n" and cp.stderr == b"err\n":
                break
            time.sleep(0.02)
        assert (cp.stdout, cp.stderr) == (b"out\n", b"err\n")
        ex = d.cli("exec", cid, "sh", "-c", "echo in-exec; exit 3")
        assert (ex.returncode, ex.stdout) == (3, b"in-exec\n"), (
            ex.stderr, (d.exec_root / "runtime" / cid / "shim.log").read_text())
        assert d.cli("exec", "-i", cid, "cat", input=b"piped\n", check=True).stdout == b"piped\n"
        assert d.cli("inspect", "-f", "{{.State.Status}}", cid, check=True).stdout.strip() == b"running"
        d.cli("kill", cid, check=True)
        assert d.cli("wait", cid, check=True).stdout.strip() == b"137"
        logs = d.cli("logs", cid, check=True).stdout
        assert logs == b"out\npartial"  # the partial line is flushed at exit
        assert not Path(f"/proc/{shim}").exists() or "Z" in Path(f"/proc/{shim}/stat").read_text()
    finally:
        d.cli("rm", "-f", cid)


def test_exit_code_and_attach(mon_daemon: Daemon) -> None:
    d = mon_daemon
    cp = d.cli("run", "--rm", "busybox", "sh", "-c", "echo hi; exit 7")
    assert (cp.returncode, cp.stdout) == (7, b"hi\n")
    cp = d.cli("run", "-i", "--rm", "busybox", "sh", "-c", "read x; echo got $x", input=b"abc\n")
    assert (cp.returncode, cp.stdout) == (0, b"got abc\n")


def _shim_chan(d: Daemon, cid: str) -> m.Channel:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    st.unix_socket_op(sock.connect, d.exec_root / "runtime" / cid, st.SOCKET_FILE)
    sock.settimeout(10)
    return m.Channel(sock)


def _request(d: Daemon, cid: str, msg: m.Message) -> m.Message | None:
    chan = _shim_chan(d, cid)
    try:
        chan.send(msg)
        return chan.recv()
    finally:
        chan.close()


def test_protocol_resize_state_start_through_monitor(mon_daemon: Daemon) -> None:
    """The monitor's replies, as the Python decoder reads them (messages.py)."""
    d = mon_daemon
    cid = d.cli("run", "-d", "-t", "busybox", "sleep", "60", check=True).stdout.decode().strip()
    try:
        _wait_monitor(d, cid)
        init = _state(d, cid)["pid"]
        assert _request(d, cid, m.State()) == m.StateReply("running", init)
        assert _request(d, cid, m.Start()) == m.Failed("container cannot be started in its current state",
                                                       step="start")
        assert _request(d, cid, m.Resize(33, 101)) == m.Ok()
        assert _request(d, cid, m.Resize(1, 1, exec_id="nope")) == m.Failed("no terminal to resize", step="resize")
        assert _request(d, cid, m.Kill(0)) == m.Ok()
        assert _request(d, cid, m.Ready()) == m.Failed("unexpected request ready", step="protocol")
        bad = _shim_chan(d, cid)
        try:  # a bad frame header: the connection is dropped, the monitor serves on
            bad.sock.sendall(b"\x09\x00\x00\x00\x01x")
            assert bad.recv() is None
        finally:
            bad.close()
        assert _request(d, cid, m.State()) == m.StateReply("running", init)
        chan = _shim_chan(d, cid)
        try:  # an exec with a pty, resized from another connection while it runs
            chan.send(m.Exec("e1", ["/bin/sh", "-c", "read x; stty size"], ["PATH=/bin"], "/", 0, 0, [], tty=True, stdin=True))
            started = chan.recv()
            assert isinstance(started, m.ExecStarted), started
            assert _request(d, cid, m.Resize(41, 120, exec_id="e1")) == m.Ok()
            chan.send(m.Input(b"go\n"))
            out = b""
            while not isinstance(msg := chan.recv(), m.Exited):
                assert isinstance(msg, m.Output), msg
                out += msg.data
            assert msg.code == 0 and b"41 120" in out, (msg, out)
        finally:
            chan.close()
    finally:
        d.cli("rm", "-f", cid)


def test_log_rotation_through_monitor(mon_daemon: Daemon) -> None:
    d = mon_daemon
    cid = d.cli("run", "-d", "--log-opt", "max-size=2k", "--log-opt", "max-file=3", "busybox", "sh", "-c",
                f"{WAIT_GO}; i=0; while [ $i -lt 400 ]; do echo line-$i; i=$((i+1)); done",
                check=True).stdout.decode().strip()
    try:
        _wait_monitor(d, cid)
        d.cli("exec", cid, "touch", "/go", check=True)
        assert d.cli("wait", cid, check=True).stdout.strip() == b"0"
        log = Path(d.cli("inspect", "-f", "{{.LogPath}}", cid, check=True).stdout.decode().strip())
        files = sorted(p.name for p in log.parent.iterdir() if p.name.startswith(log.name))
        assert files == [log.name, f"{log.name}.1", f"{log.name}.2"]
        for p in log.parent.iterdir():
            if p.name.startswith(log.name):
                assert p.stat().st_size <= 2048
        tail = d.cli("logs", cid, check=True).stdout.splitlines()
        assert tail[-1] == b"line-399"
        nums = [int(x.split(b"-")[1]) for x in tail]
        assert nums == list(range(nums[0], 400))
    finally:
        d.cli("rm", "-f", cid)


def test_oom_kill_through_monitor(mon_daemon: Daemon) -> None:
    d = mon_daemon
    cid = d.cli("run", "-d", "-m", "8m", "--memory-swap", "8m", "busybox", "sh", "-c",
                f"{WAIT_GO}; x=aaaaaaaa; while true; do x=$x$x; done", check=True).stdout.decode().strip()
    try:
        _wait_monitor(d, cid)
        d.cli("exec", cid, "touch", "/go", check=True)  # the hog starts once the monitor serves
        assert d.cli("wait", cid, timeout=30, check=True).stdout.strip() == b"137"
        state = json.loads(d.cli("inspect", cid, check=True).stdout)[0]["State"]
        assert state["OOMKilled"] is True, state
    finally:
        d.cli("rm", "-f", cid)


def test_off_keeps_the_python_shim(tmp_path: Path, seed_tar: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root")
    binary = monitor.build(tmp_path / "bin" / "dockyard-monitor")
    saved = dict(conftest.ENV)
    conftest.ENV[monitor.ENV_PATH] = str(binary)
    try:
        (tmp_path / "d").mkdir()
        d = start_daemon(tmp_path / "d", extra=("--native-monitor", "off"))
    finally:
        conftest.ENV.clear()
        conftest.ENV.update(saved)
    try:
        d.cli("load", "-q", "-i", str(seed_tar), check=True)
        cid = d.cli("run", "-d", "busybox", "sleep", "60", check=True).stdout.decode().strip()
        shim = _state(d, cid)["shim_pid"]
        assert d.cli("exec", cid, "true").returncode == 0
        assert "python" in os.readlink(f"/proc/{shim}/exe")
        d.cli("rm", "-f", cid, check=True)
    finally:
        stop_daemon(d)


def test_live_restore_through_monitor(tmp_path: Path, seed_tar: Path) -> None:
    """kill -9 of the daemon: the monitors keep serving; a new daemon reconnects to them."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    binary = monitor.build(tmp_path / "bin" / "dockyard-monitor")
    saved = dict(conftest.ENV)
    conftest.ENV[monitor.ENV_PATH] = str(binary)
    (tmp_path / "d").mkdir()
    d = start_daemon(tmp_path / "d")
    try:
        d.cli("load", "-q", "-i", str(seed_tar), check=True)
        ticker = d.cli("run", "-d", "busybox", "sh", "-c", "i=0; while true; do echo $i; i=$((i+1)); sleep 0.02; done",
                       check=True).stdout.decode().strip()
        quitter = d.cli("run", "-d", "busybox", "sh", "-c", f"{WAIT_GO}; sleep 0.3; exit 7",
                        check=True).stdout.decode().strip()
        shim = _wait_monitor(d, ticker)
        _wait_monitor(d, quitter)
        d.cli("exec", quitter, "touch", "/go", check=True)  # exits once the daemon is gone (kill -9 next)
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait(10)
        (d.exec_root / "dockyardd.pid").unlink(missing_ok=True)
        d.socket.unlink(missing_ok=True)
        deadline = time.monotonic() + 10
        exit_file = d.exec_root / "runtime" / quitter / "exit.json"
        while not exit_file.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        raw = exit_file.read_bytes()  # as state.write_exit writes it, byte for byte
        status = st.read_exit(exit_file.parent)
        assert status is not None and (status.code, status.signal, status.oom_killed) == (7, 0, False)
        assert raw == json.dumps({"code": 7, "signal": 0, "finished_at_ns": status.finished_at_ns,
                                  "oom_killed": False}).encode()
        d = start_daemon(tmp_path / "d", (d.bridge, d.chain, f"base=10.{200 + secrets.randbelow(50)}.0.0/16,size=24"))
        assert _wait_monitor(d, ticker) == shim
        assert d.cli("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", quitter,
                     check=True).stdout.split() == [b"exited", b"7"]
        before = len(d.cli("logs", ticker, check=True).stdout.split())
        deadline = time.monotonic() + 10
        while len(d.cli("logs", ticker, check=True).stdout.split()) <= before and time.monotonic() < deadline:
            time.sleep(0.05)
        nums = [int(x) for x in d.cli("logs", ticker, check=True).stdout.split()]
        assert len(nums) > before and nums == list(range(len(nums)))  # nothing lost or duplicated
        assert d.cli("exec", ticker, "echo", "ok", check=True).stdout == b"ok\n"
        d.cli("rm", "-f", ticker, quitter, check=True)
    finally:
        conftest.ENV.clear()
        conftest.ENV.update(saved)
        stop_daemon(d)


def test_default_daemon_uses_the_installed_monitor(daemon: Daemon) -> None:
    """setup.sh built it into the venv, and daemons use it by default (--native-monitor=auto)."""
    assert monitor.default_path().exists(), "run ./setup.sh: it builds .venv/libexec/dockyard-monitor"
    cid = daemon.cli("run", "-d", "busybox", "sleep", "60", check=True).stdout.decode().strip()
    try:
        shim = _wait_monitor(daemon, cid)
        assert os.readlink(f"/proc/{shim}/exe") == str(monitor.default_path().resolve())
    finally:
        daemon.cli("rm", "-f", cid)
