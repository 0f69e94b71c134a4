"""Root in a user namespace is not root on the host: a file made by ns-root is owned by a
high (subordinate) uid on the host. The runtime's enter_with_maps, in a forked child."""

from __future__ import annotations

import ctypes
import os
import shutil
import tempfile
import traceback
from pathlib import Path
from typing import Callable

import pytest

from dockyard.runtime.userns import IdMap, enter_with_maps

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
CLONE_NEWUSER, CLONE_NEWNS = 0x10000000, 0x00020000
BASE = 1_300_000  # a subordinate range no real user has


def _unshare(flags: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(flags) != 0:
        raise OSError(ctypes.get_errno(), "unshare")


@pytest.fixture
def open_dir():
    d = Path(tempfile.mkdtemp(prefix="dyuserns-", dir="/tmp"))  # pytest's tmp dirs are 0700 root
    os.chmod(d, 0o777)  # ns-root (host uid BASE) has no DAC override on host-owned files
    yield d
    shutil.rmtree(d)


def test_ns_root_files_belong_to_a_high_host_uid(open_dir):
    tmp_path = open_dir
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(r)
            enter_with_maps(_unshare, CLONE_NEWUSER | CLONE_NEWNS, [IdMap(0, BASE, 65536)], [IdMap(0, BASE, 65536)])
            with open(tmp_path / "made-by-ns-root", "w") as f:
                f.write("x")
            try:
                os.open("/etc/shadow", os.O_RDONLY)
                verdict = b"shadow-readable"
            except PermissionError:
                verdict = b"shadow-refused"
            os.write(w, f"{os.getuid()} ".encode() + verdict)
            code = 0
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            os.write(w, repr(exc).encode())
        finally:
            os._exit(code)
    os.close(w)
    report = os.read(r, 200).decode()
    os.close(r)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, report
    assert report == "0 shadow-refused"  # uid 0 inside, yet host root's files are out of reach
    st = (tmp_path / "made-by-ns-root").stat()
    assert (st.st_uid, st.st_gid) == (BASE, BASE)


def _in_child(body: Callable[[], None]) -> None:
    """Run ``body`` in a forked child: start_userns is for single-threaded callers (the
    runtime's intermediate), and a pytest-xdist worker has threads. Its failure text comes back."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(r)
            body()
            code = 0
        except BaseException:  # noqa: BLE001 - reported to the parent
            os.write(w, traceback.format_exc().encode()[-4000:])
        finally:
            os._exit(code)
    os.close(w)
    report = b""
    while chunk := os.read(r, 4096):
        report += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, report.decode()


@pytest.mark.parametrize("how", ["born-in-userns", "quiet-fork"])
def test_start_userns_returns_the_mapped_ns_and_a_helper_that_exits_alone(how: str) -> None:
    """The launcher's way (runtime/userns_launch.py): the ns as an fd, the helper reaped later."""
    from dockyard.runtime.sys.linux import fork_into_new_userns, quiet_fork
    from dockyard.runtime.userns import start_userns

    def body() -> None:
        maps = [IdMap(0, BASE, 65536)]
        if how == "born-in-userns":
            fd, helper = start_userns(_unshare, maps, maps, fork_in_userns=fork_into_new_userns)
        else:
            fd, helper = start_userns(_unshare, maps, maps, fork=quiet_fork)
        assert os.readlink(f"/proc/self/fd/{fd}") != os.readlink("/proc/self/ns/user")  # a new ns
        # The helper exits without being told again: reaping it needs no further step of ours.
        _, status = os.waitpid(helper, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        # The ns outlives its helper (held by the fd): entering it, we see the maps.
        if ctypes.CDLL(None, use_errno=True).setns(fd, CLONE_NEWUSER) != 0:
            raise OSError(ctypes.get_errno(), "setns")
        assert Path("/proc/self/uid_map").read_text().split() == ["0", str(BASE), "65536"]
        assert Path("/proc/self/gid_map").read_text().split() == ["0", str(BASE), "65536"]
    _in_child(body)


def test_start_userns_failure_leaves_no_helper() -> None:
    from dockyard.runtime.sys.linux import fork_into_new_userns
    from dockyard.runtime.userns import start_userns

    def refuse(flags: int) -> None:
        raise OSError(1, "unshare refused")

    def body() -> None:
        with pytest.raises(OSError, match="creating the user namespace failed"):
            start_userns(refuse, [IdMap(0, BASE, 65536)], [IdMap(0, BASE, 65536)])
        assert _children() == set()  # the helper is reaped: no zombie left behind
        bad = [IdMap(0, BASE, 65536), IdMap(10, BASE, 5)]  # overlapping ranges: the kernel refuses the map
        fds = set(os.listdir("/proc/self/fd"))
        with pytest.raises(OSError):
            start_userns(_unshare, bad, bad, fork_in_userns=fork_into_new_userns)
        assert _children() == set()
        assert set(os.listdir("/proc/self/fd")) == fds
    _in_child(body)


def _children() -> set[int]:
    """Our child pids, zombies included."""
    me, out = os.getpid(), set()
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = Path(f"/proc/{name}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == me:
                out.add(int(name))
    return out
