"""Log compression (json-file ``compress=true``), Docker's ``local`` file format, and the
daemon-wide default log driver."""

from __future__ import annotations

import gzip
import json

import pytest

from .conftest import Daemon, start_daemon, stop_daemon

pytestmark = pytest.mark.root

WRITER = "i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done"


def test_compressed_rotation_read_by_logs(daemon: Daemon) -> None:
    cid = daemon.cli("run", "-d", "--name", "log-gz", "--log-opt", "max-size=1k", "--log-opt", "max-file=3",
                     "--log-opt", "compress=true", "busybox", "sh", "-c", WRITER, check=True).stdout.decode().strip()
    try:
        assert daemon.cli("wait", cid, check=True, timeout=30).stdout.strip() == b"0"
        d = daemon.data_root / "containers" / cid
        name = f"{cid}-json.log"
        assert sorted(p.name for p in d.iterdir() if p.name.startswith(name)) == [name, name + ".1.gz",
                                                                                  name + ".2.gz"]
        assert gzip.decompress((d / (name + ".1.gz")).read_bytes()).startswith(b'{"log":"line-')
        lines = daemon.docker("logs", "log-gz").stdout.decode().split()
        first = int(lines[0].split("-")[1])
        assert first > 0 and lines == [f"line-{i}" for i in range(first, 300)]  # rotated + live, in order
        assert daemon.cli("logs", "--tail", "2", "log-gz", check=True).stdout.split() == [b"line-298", b"line-299"]
    finally:
        daemon.cli("rm", "-f", "log-gz")
    cp = daemon.docker("run", "--name", "log-gz2", "--log-opt", "compress=true", "busybox", "true")
    try:
        assert cp.returncode != 0 and (b"failed to initialize logging driver: compress cannot be true when "
                                       b"max-file is less than 2 or max-size is not set") in cp.stderr
    finally:
        daemon.cli("rm", "-f", "log-gz2")


def test_daemon_default_local_driver(tmp_path, seed_tar) -> None:
    d = start_daemon(tmp_path, extra=("--log-driver", "local", "--log-opt", "max-size=1k", "--log-opt", "max-file=3"))
    try:
        d.cli("load", "-q", "-i", str(seed_tar), check=True)
        assert d.docker("info", "--format", "{{.LoggingDriver}}").stdout == b"local\n"
        assert b"Logging Driver: local" in d.cli("info", check=True).stdout
        cid = d.cli("run", "-d", "--name", "loc", "busybox", "sh", "-c", WRITER + "; printf tail",
                    check=True).stdout.decode().strip()
        own = d.cli("run", "--name", "own", "--log-driver", "json-file", "busybox", "echo", "mine", check=True)
        assert own.stdout == b"mine\n"
        assert d.cli("wait", cid, check=True, timeout=30).stdout.strip() == b"0"
        lc = json.loads(d.cli("inspect", "loc", check=True).stdout)[0]["HostConfig"]["LogConfig"]
        assert lc == {"Type": "local", "Config": {"max-file": "3", "max-size": "1k"}}  # the daemon's options
        own_lc = json.loads(d.cli("inspect", "own", check=True).stdout)[0]["HostConfig"]["LogConfig"]
        assert own_lc == {"Type": "json-file", "Config": {}}  # its own driver wins, without the daemon's options
        local = d.data_root / "containers" / cid / "local-logs"
        assert sorted(p.name for p in local.iterdir()) == ["container.log", "container.log.1.gz",
                                                           "container.log.2.gz"]  # compressed by default
        out = d.docker("logs", "loc")
        assert out.returncode == 0, out.stderr
        lines = out.stdout.decode().split("\n")
        first = int(lines[0].split("-")[1])
        assert first > 0 and lines == [f"line-{i}" for i in range(first, 300)] + ["tail"]  # no newline added
        assert d.cli("logs", "--tail", "1", "loc", check=True).stdout == b"tail"
        assert d.cli("logs", "own", check=True).stdout == b"mine\n"
        # follow: a running writer's lines arrive as they are framed
        d.cli("run", "-d", "--name", "tick", "busybox", "sh", "-c", "for i in 1 2 3; do echo t$i; sleep 0.2; done",
              check=True)
        assert d.cli("logs", "-f", "tick", check=True, timeout=30).stdout == b"t1\nt2\nt3\n"
        d.cli("rm", "-f", "loc", "own", "tick", check=True)
    finally:
        stop_daemon(d)
    assert d.proc.returncode == 0
