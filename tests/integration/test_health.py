"""Health checks: starting → healthy → unhealthy, State.Health, health_status
events, ``(healthy)`` in ps, ``--filter health=``, HEALTHCHECK from the image."""

from __future__ import annotations

import json
import time

import pytest

from .conftest import Daemon

pytestmark = pytest.mark.root


def _health(daemon: Daemon, ref: str) -> dict:
    return json.loads(daemon.cli("inspect", ref, check=True).stdout)[0]["State"].get("Health") or {}


def _until(daemon: Daemon, ref: str, status: str, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        h = _health(daemon, ref)
        if h.get("Status") == status:
            return h
        time.sleep(0.05)
    raise AssertionError(f"{ref} never became {status}: {h}")


def test_transitions_events_ps_filter(daemon: Daemon) -> None:
    since = str(int(time.time()) - 1)
    daemon.cli("run", "-d", "--name", "hc", "--health-cmd", "test -e /tmp/ok && echo fine",
               "--health-interval", "200ms", "--health-retries", "2", "busybox", "sh", "-c",
               "sleep 0.5; touch /tmp/ok; sleep 300", check=True)
    try:
        assert _health(daemon, "hc")["Status"] == "starting"
        h = _until(daemon, "hc", "healthy")
        assert h["FailingStreak"] == 0 and h["Log"][-1]["ExitCode"] == 0 and h["Log"][-1]["Output"] == "fine\n"
        ps = daemon.docker("ps", "--filter", "name=hc", "--format", "{{.Status}}").stdout.decode()
        assert ps.strip().endswith("(healthy)"), ps
        ids = daemon.cli("ps", "-q", "--filter", "health=healthy").stdout.decode().split()
        assert len(ids) == 1 and daemon.cli("ps", "-q", "--filter", "health=unhealthy").stdout.strip() == b""
        daemon.docker("exec", "hc", "rm", "/tmp/ok")
        h = _until(daemon, "hc", "unhealthy")
        assert h["FailingStreak"] >= 2 and len(h["Log"]) <= 5 and h["Log"][-1]["ExitCode"] == 1
        ev = daemon.cli("events", "--since", since, "--until", str(int(time.time()) + 1), "--filter",
                        "container=hc", "--format", "{{.Action}}", check=True).stdout.decode().splitlines()
        assert "health_status: healthy" in ev and "health_status: unhealthy" in ev
    finally:
        daemon.cli("rm", "-f", "hc")


def test_image_healthcheck_and_no_healthcheck(daemon: Daemon, tmp_path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM busybox\nHEALTHCHECK --interval=200ms --retries=1 CMD false\n")
    daemon.cli("build", "-q", "-t", "hc-img", str(tmp_path), check=True, timeout=60)
    try:
        daemon.cli("run", "-d", "--name", "hc-img-c", "hc-img", "sleep", "300", check=True)
        h = _until(daemon, "hc-img-c", "unhealthy")
        assert h["Log"][-1]["ExitCode"] == 1
        daemon.cli("run", "-d", "--name", "hc-none", "--no-healthcheck", "hc-img", "sleep", "300", check=True)
        time.sleep(0.3)
        assert _health(daemon, "hc-none") == {}
    finally:
        daemon.cli("rm", "-f", "hc-img-c", "hc-none")
        daemon.cli("rmi", "hc-img")


def test_health_survives_daemon_kill9(tmp_path, seed_tar) -> None:
    import secrets
    import signal

    from .conftest import start_daemon, stop_daemon

    d = start_daemon(tmp_path)
    net = (d.bridge, d.chain, f"base=10.{200 + secrets.randbelow(50)}.0.0/16,size=24")
    try:
        d.cli("load", "-q", "-i", str(seed_tar), check=True)
        d.cli("run", "-d", "--name", "hp", "--health-cmd", "cat /tmp/h", "--health-interval", "1s",
              "--health-retries", "1", "busybox", "sh", "-c", "echo ok > /tmp/h; exec sleep 300", check=True)
        _until(d, "hp", "healthy")
        d.cli("exec", "hp", "rm", "/tmp/h", check=True)
        before = _until(d, "hp", "unhealthy")
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait(10)
        (d.exec_root / "dockyardd.pid").unlink(missing_ok=True)
        d.socket.unlink(missing_ok=True)
        parent = d.cgroup_parent
        d = start_daemon(tmp_path, net, extra=("--cgroup-parent", parent))
        d.cgroup_parent = parent
        after = _health(d, "hp")
        assert after["Status"] == "unhealthy", after  # not back at "starting"
        assert after["FailingStreak"] >= before["FailingStreak"]
        assert before["Log"][-1] in after["Log"]  # the same run's results, kept
        d.cli("exec", "hp", "sh", "-c", "echo ok > /tmp/h", check=True)
        _until(d, "hp", "healthy")  # and probing goes on
        d.cli("rm", "-f", "hp", check=True)
    finally:
        stop_daemon(d)
