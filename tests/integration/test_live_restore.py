"""Live restore and restart policies across daemon restarts: kill -9 of the
daemon leaves containers running (shims outlive it), a container that exited
meanwhile shows its real exit code, logs keep flowing; after a graceful
stop, ``always`` and ``unless-stopped`` (unless a user stopped it) come back."""

from __future__ import annotations

import json
import os
import secrets
import signal
import time

import pytest

from .conftest import Daemon, _mount_lines, cgroup_dirs, start_daemon, stop_daemon

pytestmark = pytest.mark.root


def _restart(d: Daemon, tmp_path, net: tuple[str, str, str]) -> Daemon:
    # the same cgroup parent, so the recovered containers' cgroups are the new daemon's to clean up
    d2 = start_daemon(tmp_path, net, extra=("--cgroup-parent", d.cgroup_parent))
    d2.cgroup_parent = d.cgroup_parent
    return d2


def _state(d: Daemon, name: str) -> dict:
    return json.loads(d.cli("inspect", name, check=True).stdout)[0]["State"]


def test_kill9_restart_and_policies_on_daemon_start(tmp_path, seed_tar) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root")
    d = start_daemon(tmp_path)
    net = (d.bridge, d.chain, f"base=10.{200 + secrets.randbelow(50)}.0.0/16,size=24")
    try:
        d.cli("load", "-q", "-i", str(seed_tar), check=True)
        run = lambda *a: d.cli("run", "-d", *a, check=True).stdout.decode().strip()  # noqa: E731
        keep = [run("--name", f"keep{i}", "busybox", "sleep", "300") for i in range(9)]  # + ticker: 10 running
        run("--name", "ticker", "busybox", "sh", "-c", "i=0; while true; do echo $i; i=$((i+1)); sleep 0.05; done")
        quitter = run("--name", "quitter", "busybox", "sh", "-c", "sleep 1; exit 7")
        pids = {name: _state(d, name)["Pid"] for name in ("keep0", "ticker")}

        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait(10)
        (d.exec_root / "dockyardd.pid").unlink(missing_ok=True)
        d.socket.unlink(missing_ok=True)
        deadline = time.monotonic() + 10  # the quitter exits while no daemon is there
        while not (d.exec_root / "runtime" / quitter / "exit.json").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        d = _restart(d, tmp_path, net)

        for i, cid in enumerate(keep):
            st = _state(d, cid)
            assert st["Running"] and st["Status"] == "running", (i, st)
        assert {name: _state(d, name)["Pid"] for name in ("keep0", "ticker")} == pids
        st = _state(d, "quitter")
        assert st["Status"] == "exited" and st["ExitCode"] == 7
        before = len(d.cli("logs", "ticker", check=True).stdout.split())
        deadline = time.monotonic() + 20
        while len(lines := d.cli("logs", "ticker", check=True).stdout.split()) <= before:
            assert time.monotonic() < deadline, "the ticker's log stopped after the restart"
            time.sleep(0.1)
        assert len(lines) > before and lines == [str(i).encode() for i in range(len(lines))]  # in order, no gap
        d.cli("rm", "-f", "ticker", "quitter", *keep, check=True)

        # restart policies on daemon start, after a graceful stop (which stops every container)
        # (--init: tini passes SIGTERM on, so the daemon's stop does not wait 10 s for sleep)
        run("--name", "pol-always", "--init", "--restart", "always", "busybox", "sleep", "300")
        run("--name", "pol-unless", "--init", "--restart", "unless-stopped", "busybox", "sleep", "300")
        run("--name", "pol-stopped", "--init", "--restart", "unless-stopped", "busybox", "sleep", "300")
        run("--name", "pol-no", "--init", "busybox", "sleep", "300")
        d.cli("stop", "-t", "0", "pol-stopped", check=True)
        stop_daemon(d)
        d = _restart(d, tmp_path, net)
        assert _state(d, "pol-always")["Running"] and _state(d, "pol-unless")["Running"]
        assert _state(d, "pol-stopped")["Status"] == "exited" and _state(d, "pol-no")["Status"] == "exited"
        assert json.loads(d.cli("inspect", "pol-always", check=True).stdout)[0]["RestartCount"] == 0
        d.cli("rm", "-f", "pol-always", "pol-unless", "pol-stopped", "pol-no", check=True)
    finally:
        ids = d.cli("ps", "-aq").stdout.decode().split() if d.proc.poll() is None else []
        if ids:
            d.cli("rm", "-f", *ids)
        stop_daemon(d)
    assert _mount_lines(d.data_root, d.exec_root) == []
    assert cgroup_dirs(d.cgroup_parent) == []
