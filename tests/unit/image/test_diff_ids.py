"""A user-namespaced container's layer records its own ids (``layer_chunks(ids=...)``), as Docker's do."""

from __future__ import annotations

import io
import os
import tarfile

from dockyard.daemon.usernsremap import Remap, container_ids, host_ids
from dockyard.image.diff import layer_chunks
from dockyard.oci.runtime import IdMapping

REMAP = Remap("dockremap", "dockremap", (IdMapping(0, 100000, 65536),), (IdMapping(0, 200000, 65536),))


def test_container_ids_and_host_ids_are_inverse_and_unmapped_ids_stay() -> None:
    assert host_ids(REMAP, 5, 6) == (100005, 200006)
    assert container_ids(REMAP, 100005, 200006) == (5, 6)
    assert container_ids(REMAP, 0, 0) == (0, 0)  # a copy-up of a host-root image file
    assert container_ids(REMAP, 100000 + 65536, 7) == (165536, 7)


def test_layer_owners_go_through_ids(tmp_path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_text("x")
    os.symlink("f", tmp_path / "d" / "l")
    me = (os.getuid(), os.getgid())
    seen = []

    def ids(uid: int, gid: int) -> tuple[int, int]:
        seen.append((uid, gid))
        return 7, 8

    data = b"".join(layer_chunks(str(tmp_path), [], ids=ids))
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        assert {(m.name, m.uid, m.gid) for m in tf.getmembers()} == {("d", 7, 8), ("d/f", 7, 8), ("d/l", 7, 8)}
    assert set(seen) == {me}
    plain = b"".join(layer_chunks(str(tmp_path), []))
    with tarfile.open(fileobj=io.BytesIO(plain)) as tf:
        assert {(m.uid, m.gid) for m in tf.getmembers()} == {me}
