from dockyard.core.digest import of_bytes
from dockyard.registry.server.gc import collect

from .appfakes import Harness


def test_gc_sweeps_only_unreferenced(tmp_path):
    h = Harness(tmp_path)
    kept, _ = h.push_image("x", "t", layer=b"keep")
    orphan = h.push_blob("x", b"orphan")
    old, _ = h.push_image("y", "t", layer=b"old")
    h.call("DELETE", f"/v2/y/manifests/{old}")
    dry = collect(h.storage, dry_run=True)
    gone = {d for d, _ in dry.swept}
    assert gone == {orphan, old, of_bytes(b"old")}
    assert all(h.content.exists(d) for d in gone)  # dry run deletes nothing
    young = collect(h.storage, grace=60, now=h.content.info(orphan).created_at + 1)
    assert young.swept == [] and set(young.kept_young) == gone
    report = collect(h.storage)
    assert {d for d, _ in report.swept} == gone and not any(h.content.exists(d) for d in gone)
    assert h.call("GET", f"/v2/x/manifests/{kept}").status == 200
    assert h.call("HEAD", f"/v2/x/blobs/{of_bytes(b'keep')}").status == 200
    assert h.call("HEAD", f"/v2/x/blobs/{orphan}").status == 404
