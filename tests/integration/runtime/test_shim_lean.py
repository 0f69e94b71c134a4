"""The shim creates from a short-lived child and keeps neither spec nor cgroup (runtime/shimcreate.py).

What must still hold: the init is the shim's own child (so the shim reaps it and records its
exit), nothing else is left under the shim, and an exec — for which the shim now reads the
spec and the seccomp filter on demand — runs confined like the container.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from ..conftest import Daemon


def _ppid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _children(pid: int) -> list[int]:
    return [int(t) for t in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_init_is_the_shims_only_child_and_exec_is_confined(daemon: Daemon) -> None:
    cid = daemon.cli("run", "-d", "--network", "none", "busybox", "sleep", "60", check=True).stdout.decode().strip()
    try:
        state = json.loads((daemon.exec_root / "runtime" / cid / "state.json").read_text())
        init, shim = state["pid"], state["shim_pid"]
        assert _ppid(init) == shim
        assert _children(shim) == [init]  # the create child and the launcher's intermediate are gone
        out = daemon.cli("exec", cid, "grep", "-E", "^(Seccomp|NoNewPrivs|CapEff):", "/proc/self/status",
                         check=True).stdout.decode()
        fields = dict(line.split(":\t") for line in out.strip().splitlines())
        assert fields["Seccomp"] == "2"  # the default profile, compiled on the shim's first exec
        assert fields["CapEff"] == "00000000a80425fb"  # Docker's 14 default capabilities
        assert daemon.cli("exec", cid, "true").returncode == 0  # a second exec reuses what the first read
        # exec processes reaped (with the native monitor, its exec helper exits just after Exited)
        deadline = time.monotonic() + 5
        while _children(shim) != [init] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _children(shim) == [init]
    finally:
        daemon.cli("rm", "-f", cid)
