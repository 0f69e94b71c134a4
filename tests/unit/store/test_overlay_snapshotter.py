import pytest

from dockyard.core.mount import Mount
from dockyard.core.snapshots import SnapshotKind, layer_dirs, upper_dir
from dockyard.errors import AlreadyExists, Conflict, NotFound
from dockyard.store.snapshots.overlay import OverlaySnapshotter


@pytest.fixture
def sn(tmp_path):
    s = OverlaySnapshotter(tmp_path)
    yield s
    s.close()


def test_prepare_without_parent_is_a_bind_mount(sn, tmp_path):
    [m] = sn.prepare("k1")
    assert m == Mount("bind", str(tmp_path / "snapshots/overlay/1/fs"), options=("rbind", "rw"))
    assert (tmp_path / "snapshots/overlay/1/work").is_dir()
    assert sn.stat("k1").kind is SnapshotKind.ACTIVE


def test_chain_and_overlay_mount(sn, tmp_path):
    base = tmp_path / "snapshots/overlay"
    sn.prepare("a-key")
    sn.commit("A", "a-key")
    assert not (base / "1/work").exists()
    sn.prepare("b-key", "A")
    sn.commit("B", "b-key")
    [m] = sn.prepare("ctr", "B")
    assert m.type == "overlay"
    assert m.options == (f"lowerdir={base}/2/fs:{base}/1/fs", f"upperdir={base}/3/fs", f"workdir={base}/3/work")
    assert upper_dir([m]) == f"{base}/3/fs"
    assert layer_dirs([m]) == [f"{base}/3/fs", f"{base}/2/fs", f"{base}/1/fs"]
    assert sn.mounts("ctr") == [m]
    assert sn.stat("ctr").parent == "B"
    assert {i.name for i in sn.walk()} == {"A", "B", "ctr"}
    # committed snapshots are read-only views of themselves
    assert sn.mounts("A") == [Mount("bind", f"{base}/1/fs", options=("rbind", "ro"))]
    assert sn.mounts("B") == [Mount("overlay", "overlay", options=(f"lowerdir={base}/2/fs:{base}/1/fs",))]
    [v] = sn.view("v", "B")
    assert v.options == (f"lowerdir={base}/2/fs:{base}/1/fs",)


def test_remove_rules(sn, tmp_path):
    sn.prepare("a-key")
    sn.commit("A", "a-key")
    sn.prepare("ctr", "A")
    with pytest.raises(Conflict):
        sn.remove("A")
    sn.remove("ctr")
    assert not (tmp_path / "snapshots/overlay/2").exists()
    sn.remove("A")
    with pytest.raises(NotFound):
        sn.remove("A")
    with pytest.raises(NotFound):
        sn.stat("A")


def test_conflicts(sn):
    sn.prepare("k")
    with pytest.raises(AlreadyExists):
        sn.prepare("k")
    with pytest.raises(NotFound):
        sn.prepare("x", "missing-parent")
    with pytest.raises(Conflict):
        sn.prepare("y", "k")  # parent must be committed
    sn.commit("K", "k")
    with pytest.raises(Conflict):
        sn.commit("K2", "K")  # only active snapshots commit
    sn.prepare("k2")
    with pytest.raises(AlreadyExists):
        sn.commit("K", "k2")


def test_persisted(tmp_path):
    s = OverlaySnapshotter(tmp_path)
    s.prepare("k")
    s.commit("K", "k")
    s.close()
    s2 = OverlaySnapshotter(tmp_path)
    assert s2.stat("K").kind is SnapshotKind.COMMITTED
    s2.prepare("again", "K")
    s2.close()


def test_usage(sn):
    [m] = sn.prepare("k")
    with open(m.source + "/f", "wb") as f:
        f.write(b"x" * 1000)
    u = sn.usage("k")
    assert u.size == 1000 and u.inodes == 1
