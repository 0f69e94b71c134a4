"""ShimRuntime against the real kernel: namespaces, mounts, cgroups, shims."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import statistics
import threading
import time
from pathlib import Path

import pytest

from dockyard.core.mount import Mount
from dockyard.errors import AlreadyExists, RuntimeFailure
from dockyard.oci.runtime import Resources, User
from dockyard.runtime import ShimRuntime
from dockyard.runtime.cgroups import cgroup_from_json

from .runtime_harness import Harness, make_spec

pytestmark = pytest.mark.root


def _cgroup_dirs(h: Harness, cid: str) -> list[Path]:
    mgr = cgroup_from_json(json.loads((h.runtime.state_root / cid / "cgroup.json").read_text()))
    return list(mgr.dirs.values())


def _assert_gone(h: Harness, cid: str, bundle: Path, dirs: list[Path], pids: list[int]) -> None:
    assert not (h.runtime.state_root / cid).exists()
    assert all(not d.exists() for d in dirs)
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split(") ")[1][0] == "Z"
    assert str(bundle) not in Path("/proc/self/mountinfo").read_text()
    assert cid not in h.runtime.list()


def test_echo_lands_in_log_and_attach(harness: Harness) -> None:
    cid, bundle = harness.create("sh", "-c", "echo hello; echo oops >&2; printf partial")
    assert harness.runtime.state(cid).status == "created"
    out = harness.runtime.attach(cid)
    harness.runtime.start(cid)
    chunks = list(out)
    assert b"".join(d for s, d in chunks if s == 1) == b"hello\npartial"
    assert b"".join(d for s, d in chunks if s == 2) == b"oops\n"
    status = harness.runtime.wait(cid, timeout=10)
    assert status is not None and status.code == 0
    logs = harness.logs(cid)
    assert [(e["log"], e["stream"]) for e in logs if e["stream"] == "stdout"] == [("hello\n", "stdout"), ("partial", "stdout")]
    assert {"log": "oops\n", "stream": "stderr"}.items() <= [e for e in logs if e["stream"] == "stderr"][0].items()
    assert logs[0]["time"].endswith("Z")


def test_exit_codes(harness: Harness) -> None:
    assert harness.run("true")[1] == 0
    assert harness.run("sh", "-c", "exit 3")[1] == 3


def test_kill_9_gives_137_and_state_stopped(harness: Harness) -> None:
    cid, _ = harness.create("sleep", "100")
    harness.runtime.start(cid)
    assert harness.runtime.state(cid).status == "running"
    assert harness.runtime.wait(cid, timeout=0.2) is None
    harness.runtime.kill(cid, signal.SIGKILL)
    status = harness.runtime.wait(cid, timeout=10)
    assert status is not None and (status.code, status.signal) == (137, 9)
    st = harness.runtime.state(cid)
    assert st.status == "stopped" and st.exit == status


@pytest.mark.parametrize("args, code, message", [
    (("nosuchcmd",), 127, 'exec: "nosuchcmd": executable file not found in $PATH'),
    (("/nope",), 127, 'exec: "/nope": stat /nope: no such file or directory'),
    (("/etc/passwd",), 126, 'exec: "/etc/passwd": permission denied'),
])
def test_exec_errors(harness: Harness, args: tuple[str, ...], code: int, message: str) -> None:
    cid, _ = harness.create(*args)
    with pytest.raises(RuntimeFailure) as info:
        harness.runtime.start(cid)
    assert (info.value.message, info.value.step, info.value.exit_code) == (message, "exec", code)
    status = harness.runtime.wait(cid, timeout=10)
    assert status is not None and status.code == code


def test_isolation(harness: Harness) -> None:
    script = ("echo pid=$$; hostname; cat /sys/class/net/lo/operstate; ip link show lo | grep -c UP; "
              "ls /proc | grep -c '^[0-9]'; ls /sys/class/net | wc -l; "
              "cat /proc/kcore | wc -c; touch /proc/sys/x 2>/dev/null || echo ro")
    cid, code, out = harness.run("sh", "-c", script, hostname="box1")
    lines = out.split()
    assert code == 0, out
    assert lines[0] == "pid=1"
    assert lines[1] == "box1"
    assert lines[2] in ("unknown", "up")  # lo reports "unknown" operstate when up
    assert lines[3] == "1"
    assert int(lines[4]) <= 3  # sh, ls, grep: only the container's processes
    assert lines[5] == "1"  # only lo in the new net ns
    assert lines[6] == "0"  # /proc/kcore masked with /dev/null
    assert lines[7] == "ro"


def test_cwd_and_user(harness: Harness) -> None:
    cid, code, out = harness.run("sh", "-c", "pwd; id -u; id -g", cwd="/work/dir", user=User(uid=65534, gid=65534))
    assert code == 0
    assert out.split() == ["/work/dir", "65534", "65534"]


def test_readonly_root(harness: Harness) -> None:
    from dockyard.oci.runtime import Root
    _, code, out = harness.run("sh", "-c", "touch /x 2>/dev/null || echo readonly", root=Root("rootfs", readonly=True))
    assert (code, out) == (0, "readonly\n")


def test_overlay_rootfs(harness: Harness, tmp_path: Path) -> None:
    upper, work = tmp_path / "upper", tmp_path / "work"
    upper.mkdir(); work.mkdir()
    overlay = Mount("overlay", "overlay", options=(f"lowerdir={harness.rootfs}", f"upperdir={upper}", f"workdir={work}"))
    cid, _ = harness.create("sh", "-c", "echo x > /created; cat /created", rootfs=[overlay])
    harness.runtime.start(cid)
    assert harness.runtime.wait(cid, timeout=10).code == 0  # type: ignore[union-attr]
    assert (upper / "created").read_text() == "x\n"
    assert not (harness.rootfs / "created").exists()


def test_cgroup_resources_applied(harness: Harness) -> None:
    res = Resources(memory_limit=64 * 1024 * 1024, pids_limit=50, cpu_shares=512)
    cid = harness.new_id()
    spec = make_spec(("sleep", "100"), cid)
    spec = dataclasses.replace(spec, linux=dataclasses.replace(spec.linux, resources=res))
    harness.runtime.create(cid, harness.bundle(spec, cid), [Mount("bind", str(harness.rootfs), options=("rbind",))],
                           harness.log_path(cid))
    dirs = _cgroup_dirs(harness, cid)
    mem = next(d for d in dirs if "/memory/" in str(d))
    pids = next(d for d in dirs if "/pids/" in str(d))
    cpu = next(d for d in dirs if "/cpu/" in str(d))
    assert (mem / "memory.limit_in_bytes").read_text().strip() == str(64 * 1024 * 1024)
    assert (pids / "pids.max").read_text().strip() == "50"
    assert (cpu / "cpu.shares").read_text().strip() == "512"
    init = harness.runtime.state(cid).pid
    assert all(str(init) in (d / "cgroup.procs").read_text().split() for d in dirs)


def test_delete_leaves_nothing(harness: Harness) -> None:
    cid, bundle = harness.create("sh", "-c", "sleep 100 & sleep 100")
    harness.runtime.start(cid)
    dirs = _cgroup_dirs(harness, cid)
    pids = [int(p) for d in dirs[:1] for p in (d / "cgroup.procs").read_text().split()]
    assert pids and all(d.exists() for d in dirs)
    harness.runtime.delete(cid)
    harness.runtime.delete(cid)  # idempotent
    _assert_gone(harness, cid, bundle, dirs, pids)


def test_delete_created_container(harness: Harness) -> None:
    cid, bundle = harness.create("true")
    dirs = _cgroup_dirs(harness, cid)
    pid = harness.runtime.state(cid).pid
    harness.runtime.delete(cid)
    _assert_gone(harness, cid, bundle, dirs, [pid])


def test_failed_create_leaves_nothing(harness: Harness, tmp_path: Path) -> None:
    cid = harness.new_id()
    bundle = harness.bundle(make_spec(("true",), cid), cid)
    missing = Mount("bind", str(tmp_path / "does-not-exist"), options=("rbind",))
    with pytest.raises(RuntimeFailure) as info:
        harness.runtime.create(cid, bundle, [missing], harness.log_path(cid))
    assert info.value.step == "rootfs"
    assert not (harness.runtime.state_root / cid).exists()
    assert str(bundle) not in Path("/proc/self/mountinfo").read_text()
    assert not any(p.name == cid for p in Path("/sys/fs/cgroup/pids/dockyard-test").glob("*"))


def test_duplicate_create_rejected(harness: Harness) -> None:
    cid, bundle = harness.create("true")
    with pytest.raises(AlreadyExists):
        harness.runtime.create(cid, bundle, [], harness.log_path(cid))


def test_state_after_daemon_restart(harness: Harness, spawner) -> None:  # type: ignore[no-untyped-def]
    cid, _ = harness.create("sh", "-c", "echo one; sleep 100")
    harness.runtime.start(cid)
    fresh = ShimRuntime(harness.runtime.state_root, spawner)  # a "restarted daemon": no memory, only files
    assert fresh.list() == [cid]
    assert fresh.state(cid).status == "running"
    fresh.kill(cid, signal.SIGTERM)  # pid 1 ignores SIGTERM without a handler, like Docker
    assert fresh.wait(cid, timeout=0.3) is None
    fresh.kill(cid, signal.SIGKILL)
    assert fresh.wait(cid, timeout=10).code == 137  # type: ignore[union-attr]


def test_attach_close_from_other_thread(harness: Harness) -> None:
    cid, _ = harness.create("sleep", "100")
    out = harness.runtime.attach(cid)
    harness.runtime.start(cid)
    threading.Timer(0.2, out.close).start()
    assert list(out) == []


def test_timing_create_start_wait(harness: Harness, capsys: pytest.CaptureFixture[str]) -> None:
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        cid, _ = harness.create("true")
        harness.runtime.start(cid)
        assert harness.runtime.wait(cid, timeout=10).code == 0  # type: ignore[union-attr]
        times.append(time.perf_counter() - t0)
        harness.runtime.delete(cid)
    with capsys.disabled():
        print(f"\ncreate+start+wait of `true`: median {statistics.median(times) * 1000:.1f} ms over {len(times)} runs")
