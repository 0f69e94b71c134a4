"""Per-device block I/O throttles on this host's cgroup v1 blkio hierarchy, against a loop
device made for the test (and detached after): the flags of our CLI and the docker CLI,
inspect, the blkio.throttle.* files, Docker's start error and its update behaviour."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from .conftest import Daemon

pytestmark = pytest.mark.root


@pytest.fixture
def loop(tmp_path: Path) -> Iterator[str]:
    backing = tmp_path / "disk.img"
    with open(backing, "wb") as f:
        f.truncate(8 << 20)
    dev = subprocess.run(["losetup", "--find", "--show", str(backing)], check=True, capture_output=True,
                         text=True, timeout=10).stdout.strip()
    try:
        yield dev
    finally:
        subprocess.run(["losetup", "-d", dev], check=False, timeout=10)


def _blkio_dir(daemon: Daemon, cid: str) -> Path:
    dirs = json.loads((daemon.exec_root / "runtime" / cid / "cgroup.json").read_text())["dirs"]
    return next(Path(d) for name, d in dirs.items() if "blkio" in name.split(","))


def _lines(path: Path) -> set[str]:
    return set(path.read_text().split("\n")) - {""}


def test_throttles_reach_the_cgroup(daemon: Daemon, loop: str) -> None:
    rdev = os.stat(loop).st_rdev
    mm = f"{os.major(rdev)}:{os.minor(rdev)}"
    cid = daemon.cli("run", "-d", "--name", "blk-1", "--device-read-bps", f"{loop}:1mb", "--device-write-bps",
                     f"{loop}:512k", "--device-read-iops", f"{loop}:100", "busybox", "sleep", "60",
                     check=True).stdout.decode().strip()
    cp = daemon.docker("run", "-d", "--name", "blk-2", "--device-write-iops", f"{loop}:30", "busybox", "sleep", "60")
    other = cp.stdout.decode().strip()
    try:
        assert cp.returncode == 0, cp.stderr
        d = _blkio_dir(daemon, cid)
        assert _lines(d / "blkio.throttle.read_bps_device") == {f"{mm} 1048576"}
        assert _lines(d / "blkio.throttle.write_bps_device") == {f"{mm} 524288"}
        assert _lines(d / "blkio.throttle.read_iops_device") == {f"{mm} 100"}
        assert _lines(d / "blkio.throttle.write_iops_device") == set()
        assert _lines(_blkio_dir(daemon, other) / "blkio.throttle.write_iops_device") == {f"{mm} 30"}
        host = json.loads(daemon.cli("inspect", "blk-1", check=True).stdout)[0]["HostConfig"]
        assert host["BlkioDeviceReadBps"] == [{"Path": loop, "Rate": 1 << 20}]
        assert host["BlkioDeviceReadIOps"] == [{"Path": loop, "Rate": 100}]
        # Docker's update takes only --blkio-weight; device throttles in the body are ignored
        body = json.dumps({"BlkioDeviceReadBps": [{"Path": loop, "Rate": 4096}]})
        out = subprocess.run(["curl", "-sf", "--unix-socket", str(daemon.socket), "-XPOST", "-H",
                              "Content-Type: application/json", "-d", body, "http://d/containers/blk-1/update"],
                             capture_output=True, timeout=10)
        assert out.returncode == 0, out.stderr
        assert _lines(d / "blkio.throttle.read_bps_device") == {f"{mm} 1048576"}
    finally:
        daemon.cli("rm", "-f", "blk-1", "blk-2")


def test_missing_device_fails_start_and_unsupported_warns(daemon: Daemon) -> None:
    cp = daemon.docker("run", "--name", "blk-3", "--device-read-bps", "/dev/nosuch:1mb", "busybox", "true")
    try:
        assert cp.returncode != 0 and "stat /dev/nosuch: no such file or directory" in cp.stderr.decode()
    finally:
        daemon.cli("rm", "-f", "blk-3")
    bad = daemon.cli("create", "--device-read-bps", "/dev/sda:1x", "busybox", "true")
    assert bad.returncode != 0 and b"invalid rate for device: /dev/sda:1x" in bad.stderr
    weight_device = Path("/sys/fs/cgroup/blkio/blkio.weight_device").exists()
    cp = daemon.cli("create", "--name", "blk-4", "--blkio-weight-device", "/dev/null:300", "busybox", "true")
    try:
        assert cp.returncode == 0, cp.stderr
        assert weight_device or b"Weight-device discarded." in cp.stderr
    finally:
        daemon.cli("rm", "-f", "blk-4")
