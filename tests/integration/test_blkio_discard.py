"""An unsupported BlkioWeightDevice warns at create and is stored as [] (Docker's inspect)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import Daemon

pytestmark = pytest.mark.root


def test_unsupported_weight_device_is_stored_empty(daemon: Daemon) -> None:
    v2 = Path("/sys/fs/cgroup/cgroup.controllers").exists()
    supported = Path("/sys/fs/cgroup/blkio/blkio.weight_device").exists() or v2
    cp = daemon.docker("create", "--name", "blk-discard", "--blkio-weight-device", "/dev/null:300",
                       "--blkio-weight", "300", "busybox", "true")
    try:
        assert cp.returncode == 0, cp.stderr
        host = json.loads(daemon.cli("inspect", "blk-discard", check=True).stdout)[0]["HostConfig"]
        if supported:
            assert host["BlkioWeightDevice"] == [{"Path": "/dev/null", "Weight": 300}]
        else:
            assert b"Weight-device discarded." in cp.stderr  # the warning still comes from the request
            assert host["BlkioWeightDevice"] == []
        weight = Path("/sys/fs/cgroup/blkio/blkio.weight").exists() or v2
        assert host["BlkioWeight"] == (300 if weight else 0)
        assert daemon.docker("start", "blk-discard").returncode == 0
    finally:
        daemon.cli("rm", "-f", "blk-discard")
