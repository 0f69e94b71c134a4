from __future__ import annotations

import argparse

import pytest

from dockyard.cli import resourcespecs as rs


def _body(*argv: str) -> dict:
    p = argparse.ArgumentParser()
    rs.add_flags(p)
    body: dict = {}
    rs.apply_args(body, p.parse_args(list(argv)))
    return body["HostConfig"]


def test_flags_to_host_config() -> None:
    host = _body("-m", "64m", "--memory-swap", "-1", "--cpus", "0.5", "--pids-limit", "20", "--shm-size", "1g",
                 "--ulimit", "nofile=100:200", "--ulimit", "core=0", "--device", "/dev/fuse:r",
                 "--device-cgroup-rule", "c 1:3 rwm", "--cpuset-cpus", "0")
    assert host == {
        "Memory": 64 << 20, "MemorySwap": -1, "NanoCpus": 500_000_000, "PidsLimit": 20, "ShmSize": 1 << 30,
        "Ulimits": [{"Name": "nofile", "Soft": 100, "Hard": 200}, {"Name": "core", "Soft": 0, "Hard": 0}],
        "Devices": [{"PathOnHost": "/dev/fuse", "PathInContainer": "/dev/fuse", "CgroupPermissions": "r"}],
        "DeviceCgroupRules": ["c 1:3 rwm"], "CpusetCpus": "0"}


@pytest.mark.parametrize("argv, message", [
    (("--ulimit", "foo=1"), "invalid ulimit type: foo"),
    (("--ulimit", "nofile=10:5"), "ulimit soft limit must be less than or equal to hard limit: 10 > 5"),
    (("--device-cgroup-rule", "x 1:2 r"), "invalid device cgroup format 'x 1:2 r'"),
    (("--shm-size", "-1"), "invalid size: '-1'"),
    (("--memory-swappiness", "200"), "Valid memory swappiness range is 0-100"),
])
def test_flag_errors(argv: tuple[str, ...], message: str) -> None:
    with pytest.raises(rs.ResourceSpecError, match=message.replace("(", r"\(")):
        _body(*argv)
