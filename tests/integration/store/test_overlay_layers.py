"""Root-only: real whiteouts, opaque dirs, and an actual overlay mount of a loaded image."""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import os
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest

from dockyard.image import seed
from dockyard.image.layers import apply_layer
from dockyard.image.service import ImageService
from dockyard.store.content.local import LocalContentStore
from dockyard.store.snapshots.overlay import OverlaySnapshotter
from dockyard.store.statedb.sqlite import SqliteStateDB

pytestmark = pytest.mark.root

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def mount(source: str, target: str, fstype: str, options: str) -> None:
    if _libc.mount(source.encode(), target.encode(), fstype.encode(), 0, options.encode()) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def umount(target: str) -> None:
    if _libc.umount2(target.encode(), 0) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def tar(*entries: tuple[str, bytes, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, kind, data in entries:
            ti = tarfile.TarInfo(name)
            ti.type, ti.size, ti.mode = kind, len(data), 0o755 if kind == tarfile.DIRTYPE else 0o644
            tf.addfile(ti, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    return buf.getvalue()


def docker_save(layers: list[bytes], tag: str) -> bytes:
    import hashlib
    import json

    def sha(b: bytes) -> str:
        return hashlib.sha256(b).hexdigest()

    cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
                      "rootfs": {"type": "layers", "diff_ids": ["sha256:" + sha(l) for l in layers]}}).encode()
    files = {f"blobs/sha256/{sha(b)}": b for b in [cfg, *layers]}
    files["manifest.json"] = json.dumps([{"Config": f"blobs/sha256/{sha(cfg)}", "RepoTags": [tag],
                                          "Layers": [f"blobs/sha256/{sha(l)}" for l in layers]}]).encode()
    return tar(*[(n, tarfile.REGTYPE, b) for n, b in files.items()])


@pytest.fixture
def svc(tmp_path):
    db = SqliteStateDB(tmp_path / "state.db")
    sn = OverlaySnapshotter(tmp_path)
    yield ImageService(LocalContentStore(tmp_path), db.images, sn, tmp_path)
    sn.close()
    db.close()


def test_whiteouts_and_opaque_dirs_become_overlay_ones(tmp_path):
    dest = tmp_path / "layer"
    dest.mkdir()
    data = tar(("etc", tarfile.DIRTYPE, b""), ("etc/.wh.gone", tarfile.REGTYPE, b""),
               ("opq", tarfile.DIRTYPE, b""), ("opq/.wh..wh..opq", tarfile.REGTYPE, b""),
               ("opq/kept", tarfile.REGTYPE, b"k"), ("dev", tarfile.DIRTYPE, b""))
    apply_layer(io.BytesIO(data), dest)
    st = os.lstat(dest / "etc/gone")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0
    assert not (dest / "etc/.wh.gone").exists()
    assert os.getxattr(dest / "opq", "trusted.overlay.opaque") == b"y"
    assert not (dest / "opq/.wh..wh..opq").exists() and (dest / "opq/kept").read_bytes() == b"k"


def test_device_nodes_and_ownership(tmp_path):
    dest = tmp_path / "layer"
    dest.mkdir()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        ti = tarfile.TarInfo("null")
        ti.type, ti.devmajor, ti.devminor, ti.mode = tarfile.CHRTYPE, 1, 3, 0o666
        tf.addfile(ti)
        ti = tarfile.TarInfo("owned")
        ti.uid, ti.gid, ti.mode, ti.size = 1234, 5678, 0o2755, 1
        tf.addfile(ti, io.BytesIO(b"x"))
    apply_layer(io.BytesIO(buf.getvalue()), dest)
    st = os.lstat(dest / "null")
    assert stat.S_ISCHR(st.st_mode) and os.major(st.st_rdev) == 1 and os.minor(st.st_rdev) == 3
    st = os.lstat(dest / "owned")
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1234, 5678, 0o2755)  # setgid survives chown


def test_read_rootfs_file_honours_whiteouts_and_opaque_dirs(svc):
    l1 = tar(("etc", tarfile.DIRTYPE, b""), ("etc/passwd", tarfile.REGTYPE, b"p1"),
             ("etc/group", tarfile.REGTYPE, b"g1"), ("d", tarfile.DIRTYPE, b""), ("d/old", tarfile.REGTYPE, b"o"))
    l2 = tar(("etc", tarfile.DIRTYPE, b""), ("etc/.wh.passwd", tarfile.REGTYPE, b""),
             ("d", tarfile.DIRTYPE, b""), ("d/.wh..wh..opq", tarfile.REGTYPE, b""), ("d/new", tarfile.REGTYPE, b"n"))
    svc.load(io.BytesIO(docker_save([l1, l2], "wh:1")))
    svc.prepare_rootfs("c", "wh:1")
    assert svc.read_rootfs_file("c", "/etc/passwd") is None
    assert svc.read_rootfs_file("c", "/etc/group") == b"g1"
    assert svc.read_rootfs_file("c", "/d/old") is None
    assert svc.read_rootfs_file("c", "/d/new") == b"n"


def test_mount_seed_image_and_run_busybox(svc, tmp_path):
    svc.load(io.BytesIO(seed.build_archive(Path("/bin/busybox"))))
    [m] = svc.prepare_rootfs("ctr", "busybox")
    assert m.type == "overlay"
    target = tmp_path / "merged"
    target.mkdir()
    mount(m.source, str(target), m.type, ",".join(m.options))
    try:
        assert (target / "etc/passwd").read_text().startswith("root:x:0:0:")
        assert os.readlink(target / "bin/sh") == "busybox"
        out = subprocess.run([str(target / "bin/busybox"), "echo", "hi"], capture_output=True, check=True)
        assert out.stdout == b"hi\n"
        # writes land in the container's upper dir, not in the shared layer
        (target / "tmp/written").write_text("w")
        (target / "etc/passwd").unlink()
        assert svc.read_rootfs_file("ctr", "/tmp/written") == b"w"
        assert svc.read_rootfs_file("ctr", "/etc/passwd") is None  # the kernel's own whiteout
        r = subprocess.run(["chroot", str(target), "/bin/sh", "-c", "echo from-chroot"], capture_output=True)
        assert r.returncode == 0 and r.stdout == b"from-chroot\n"
    finally:
        umount(str(target))
    svc.remove_rootfs("ctr")
    layer_dir = Path(svc.inspect_json("busybox")["GraphDriver"]["Data"]["UpperDir"])
    assert (layer_dir / "etc/passwd").exists() and not (layer_dir / "tmp/written").exists()
