"""A container in its own user namespace (linux.uidMappings): overlay over idmapped lowers,
files written by container root are a high uid on the host, /dev by bind, exec joins the userns."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from dockyard.core.mount import Mount
from dockyard.oci.runtime import IdMapping, Linux, Namespace
from dockyard.runtime import ShimRuntime, Spawner

from .runtime_harness import Harness, make_spec

pytestmark = pytest.mark.root
BASE = 1_500_000  # a subordinate range no real user has
MAPS = (IdMapping(0, BASE, 65536),)


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    # pytest's tmp dirs are 0700 root: the container's root (host uid BASE) could not reach its bundle
    d = Path(tempfile.mkdtemp(prefix="dyuserns-", dir="/tmp"))
    os.chmod(d, 0o711)
    yield d
    shutil.rmtree(d)


@pytest.fixture
def uharness(open_tmp: Path, busybox_rootfs: Path, spawner: Spawner, tmp_path: Path) -> Iterator[Harness]:
    h = Harness(open_tmp, busybox_rootfs, ShimRuntime(tmp_path / "state", spawner))
    yield h
    for cid in h.ids:
        h.runtime.delete(cid)


def _userns_linux(cid: str, base: Linux) -> Linux:
    ns = (*base.namespaces, Namespace("user"))
    return Linux(namespaces=ns, cgroups_path=base.cgroups_path, masked_paths=base.masked_paths,
                 readonly_paths=base.readonly_paths, uid_mappings=MAPS, gid_mappings=MAPS)


def _overlay(h: Harness, lower: Path) -> list[Mount]:
    snap = h.tmp / "snap"
    (snap / "fs").mkdir(parents=True)
    (snap / "work").mkdir()
    return [Mount("overlay", "overlay", options=(f"lowerdir={lower}", f"upperdir={snap / 'fs'}",
                                                 f"workdir={snap / 'work'}"))]


def test_container_root_is_a_high_uid_on_the_host(uharness: Harness, busybox_rootfs: Path) -> None:
    h = uharness
    cid = h.new_id()
    base = make_spec(("true",), cid)
    script = ("id -u; stat -c %u /bin/busybox; echo hi > /made; echo more >> /etc/passwd; "
              "cat /proc/self/uid_map; ls -l /dev/null | cut -c1; echo x > /dev/null && echo devnull-ok; "
              "grep -q ' /sys ' /proc/mounts && echo sys-ok")
    spec = make_spec(("sh", "-c", script), cid, linux=_userns_linux(cid, base.linux))
    bundle = h.bundle(spec, cid)
    rootfs = _overlay(h, busybox_rootfs)
    h.runtime.create(cid, bundle, rootfs, h.log_path(cid))
    h.runtime.start(cid)
    status = h.runtime.wait(cid, timeout=30)
    out = "".join(e["log"] for e in h.logs(cid))
    assert status is not None and status.code == 0, out
    lines = out.split("\n")
    assert lines[0] == "0" and lines[1] == "0"  # root inside; image files owned by root inside
    assert lines[2].split() == ["0", str(BASE), "65536"]
    assert lines[3:6] == ["c", "devnull-ok", "sys-ok"]
    upper = h.tmp / "snap" / "fs"
    for name in ("made", "etc/passwd"):  # new file and a copied-up one
        st = (upper / name).stat()
        assert (st.st_uid, st.st_gid) == (BASE, BASE), name
    assert (busybox_rootfs / "etc" / "passwd").stat().st_uid == 0  # the lower is untouched
    assert str(bundle) not in Path("/proc/self/mountinfo").read_text()
