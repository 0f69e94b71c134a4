"""The cgroup v2 device program on the real kernel.

This host is hybrid (v1 controllers, cgroup2 at /sys/fs/cgroup/unified): the BPF
device hook runs for the v2 cgroup of a task whatever the v1 devices controller
says, so the program is attached to a cgroup of our own in the v2 hierarchy and
a child moved into it tries the devices (on a v2-only host the same test runs
under /sys/fs/cgroup)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dockyard.daemon.specgen import DEVICE_RULES
from dockyard.runtime import devices_bpf

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

CHILD = """
import os, sys
tmp = sys.argv[2]
def try_(name, fn):
    try:
        fn(); print(name, "ok")
    except OSError as e:
        print(name, e.strerror)
try_("null", lambda: os.close(os.open("/dev/null", os.O_RDWR)))
try_("kmsg", lambda: os.close(os.open("/dev/kmsg", os.O_RDONLY)))
try_("mknod", lambda: os.mknod(tmp + "/mem", 0o600 | 0o020000, os.makedev(1, 1)))
try_("open-mem", lambda: os.close(os.open(tmp + "/mem", os.O_RDONLY)))
"""


def _v2_root() -> Path:
    for p in (Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup")):
        if (p / "cgroup.procs").exists() and (p / "cgroup.subtree_control").exists():
            return p
    pytest.fail("no cgroup2 hierarchy mounted")


def test_default_rules_enforced_by_the_kernel(tmp_path):
    cg = _v2_root() / f"dyt-devbpf-{secrets.token_hex(4)}"
    cg.mkdir()
    try:
        devices_bpf.attach(cg, DEVICE_RULES)
        child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read(1); exec(sys.argv[1])",
                                  CHILD, str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        (cg / "cgroup.procs").write_text(str(child.pid))
        out, _ = child.communicate("x", timeout=30)
        assert dict(line.split(" ", 1) for line in out.splitlines()) == {
            "null": "ok", "kmsg": "Operation not permitted", "mknod": "ok", "open-mem": "Operation not permitted"}
    finally:
        deadline = time.monotonic() + 5
        while True:
            try:
                cg.rmdir()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
