"""Root in a user namespace is not root on the host: a file made by ns-root is owned by a
high (subordinate) uid on the host. The runtime's enter_with_maps, in a forked child."""

from __future__ import annotations

import ctypes
import os
import shutil
import tempfile
from pathlib import Path

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
