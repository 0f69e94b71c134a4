"""Log drivers and rotation: json-file max-size/max-file, none, a fast writer's
100 000 lines complete and in order."""

from __future__ import annotations

import json

import pytest

from .conftest import Daemon

pytestmark = pytest.mark.root


def test_rotation_keeps_max_file(daemon: Daemon) -> None:
    cid = daemon.cli("run", "-d", "--name", "log-rot", "--log-opt", "max-size=1k", "--log-opt", "max-file=3",
                     "busybox", "sh", "-c", "i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done",
                     check=True).stdout.decode().strip()
    try:
        assert daemon.cli("wait", cid, check=True, timeout=30).stdout.strip() == b"0"
        d = daemon.data_root / "containers" / cid
        log = d / f"{cid}-json.log"
        files = sorted(p.name for p in d.iterdir() if p.name.startswith(f"{cid}-json.log"))
        assert files == [log.name, log.name + ".1", log.name + ".2"]
        assert all((d / f).stat().st_size <= 1024 for f in files)
        lines = daemon.cli("logs", "log-rot", check=True).stdout.decode().split()
        assert lines[-1] == "line-299" and len(lines) < 300
        first = int(lines[0].split("-")[1])
        assert lines == [f"line-{i}" for i in range(first, 300)]  # the newest, contiguous
        host = json.loads(daemon.cli("inspect", cid, check=True).stdout)[0]["HostConfig"]["LogConfig"]
        assert host == {"Type": "json-file", "Config": {"max-size": "1k", "max-file": "3"}}
    finally:
        daemon.cli("rm", "-f", "log-rot")


def test_driver_none_and_validation(daemon: Daemon) -> None:
    cp = daemon.cli("run", "--name", "log-none", "--log-driver", "none", "busybox", "echo", "hi", timeout=30)
    try:
        assert cp.stdout == b"hi\n"  # attach still works
        cid = json.loads(daemon.cli("inspect", "log-none", check=True).stdout)[0]["Id"]
        log = daemon.data_root / "containers" / cid / f"{cid}-json.log"
        assert not log.exists() or log.stat().st_size == 0
        out = daemon.docker("logs", "log-none")
        assert out.returncode != 0 and b"configured logging driver does not support reading" in out.stderr
    finally:
        daemon.cli("rm", "-f", "log-none")
    bad = daemon.docker("create", "--log-driver", "foo", "busybox", "true")
    assert b"logger: no log driver named 'foo' is registered" in bad.stderr
    bad = daemon.docker("create", "--log-opt", "max-file=2", "busybox", "true")
    assert b"max-file can only be used with max-size" in bad.stderr
    bad = daemon.docker("create", "--log-opt", "bogus=1", "busybox", "true")
    assert b"unknown log opt 'bogus' for json-file log driver" in bad.stderr


def test_fast_writer_complete_and_in_order(daemon: Daemon) -> None:
    cp = daemon.cli("run", "--name", "log-fast", "busybox", "seq", "100000", timeout=60, check=True)
    try:
        assert cp.stdout.split() == [str(i).encode() for i in range(1, 100001)]
        logs = daemon.cli("logs", "log-fast", check=True, timeout=60).stdout.split()
        assert logs == [str(i).encode() for i in range(1, 100001)]
    finally:
        daemon.cli("rm", "-f", "log-fast")


def test_follow_across_rotation(daemon: Daemon) -> None:
    daemon.cli("run", "-d", "--name", "log-follow", "--log-opt", "max-size=1k", "--log-opt", "max-file=2",
               "busybox", "sh", "-c", "i=0; while [ $i -lt 200 ]; do echo line-$i; i=$((i+1)); usleep 3000; done",
               check=True)
    try:
        lines = daemon.cli("logs", "-f", "log-follow", check=True, timeout=30).stdout.decode().split()
        first = int(lines[0].split("-")[1])
        assert lines == [f"line-{i}" for i in range(first, 200)]  # no gap, no repeat across rotations
    finally:
        daemon.cli("rm", "-f", "log-follow")
