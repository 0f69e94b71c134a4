import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from dockyard.core.images import is_dangling
from dockyard.errors import DigestMismatch, ImageNotFound, InvalidArgument, InvalidReference
from dockyard.image import seed
from dockyard.image.service import ImageService
from dockyard.store.content.local import LocalContentStore
from dockyard.store.snapshots.overlay import OverlaySnapshotter
from dockyard.store.statedb.sqlite import SqliteStateDB
from .layertars import E, dir_, gz, image_archive, layer, sha, sym

BUSYBOX = Path("/bin/busybox")
needs_busybox = pytest.mark.skipif(not BUSYBOX.exists(), reason="needs /bin/busybox")


@pytest.fixture
def svc(tmp_path):
    db = SqliteStateDB(tmp_path / "state.db")
    sn = OverlaySnapshotter(tmp_path)
    yield ImageService(LocalContentStore(tmp_path), db.images, sn, tmp_path)
    sn.close()
    db.close()


@pytest.fixture(scope="module")
def seed_tar():
    if not BUSYBOX.exists():
        pytest.skip("needs /bin/busybox")
    return seed.build_archive(BUSYBOX)


def blobs(root: Path) -> list[str]:
    return sorted(os.listdir(root / "content/blobs/sha256"))


def snapshot_dirs(root: Path) -> list[str]:
    return sorted(n for n in os.listdir(root / "snapshots/overlay") if n.isdigit())


# -- seed ---------------------------------------------------------------------------
@needs_busybox
def test_seed_is_deterministic(seed_tar, tmp_path):
    assert hashlib.sha256(seed.build_archive(BUSYBOX)).digest() == hashlib.sha256(seed_tar).digest()
    seed.main(["--busybox", str(BUSYBOX), "-o", str(tmp_path / "a.tar")])
    assert (tmp_path / "a.tar").read_bytes() == seed_tar


@needs_busybox
def test_seed_contents(seed_tar):
    with tarfile.open(fileobj=io.BytesIO(seed_tar)) as tf:
        manifest = json.load(tf.extractfile("manifest.json"))
        assert manifest[0]["RepoTags"] == ["busybox:latest"]
        config = json.load(tf.extractfile(manifest[0]["Config"]))
        layer_gz = tf.extractfile(manifest[0]["Layers"][0]).read()
    assert config["config"]["Cmd"] == ["sh"]
    assert config["config"]["Env"] == ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    assert config["os"] == "linux" and config["architecture"]
    assert layer_gz[4:8] == b"\0\0\0\0"  # gzip mtime 0
    with tarfile.open(fileobj=io.BytesIO(layer_gz)) as lt:
        names = lt.getnames()
        assert names == sorted(names)
        members = {m.name: m for m in lt.getmembers()}
        passwd = lt.extractfile("etc/passwd").read().decode()
    assert config["rootfs"]["diff_ids"] == [sha(gz_decompress(layer_gz))]
    assert members["tmp"].mode == 0o1777 and members["bin/busybox"].mode == 0o755
    assert members["bin/sh"].issym() and members["bin/sh"].linkname == "busybox"
    assert {"proc", "sys", "dev", "root", "home", "var", "etc/group"} <= set(members)
    assert passwd.startswith("root:x:0:0:root:/root:/bin/sh\n") and "nobody:x:65534:65534:" in passwd


def gz_decompress(b: bytes) -> bytes:
    import gzip
    return gzip.decompress(b)


# -- load + resolve -------------------------------------------------------------------
@needs_busybox
def test_load_seed_twice_same_image(svc, seed_tar, tmp_path):
    assert svc.load(io.BytesIO(seed_tar)) == ["busybox:latest"]
    first = svc.resolve("busybox")
    n_blobs, n_snaps = blobs(tmp_path), snapshot_dirs(tmp_path)
    assert svc.load(io.BytesIO(seed_tar)) == ["busybox:latest"]
    assert svc.resolve("busybox").id == first.id
    assert blobs(tmp_path) == n_blobs and snapshot_dirs(tmp_path) == n_snaps == ["1"]  # layer shared
    assert svc.count() == 1
    # a second data root gives the same id: the archive is deterministic
    other = tmp_path / "other"
    db = SqliteStateDB(other / "state.db")
    sn = OverlaySnapshotter(other)
    try:
        ImageService(LocalContentStore(other), db.images, sn, other).load(io.BytesIO(seed.build_archive(BUSYBOX)))
        assert db.images.get("docker.io/library/busybox:latest").id == first.id
    finally:
        sn.close()
        db.close()


@needs_busybox
def test_resolve_forms(svc, seed_tar):
    svc.load(io.BytesIO(seed_tar))
    img = svc.resolve("busybox")
    hex_ = img.id[7:]
    assert img.name == "docker.io/library/busybox:latest" and img.repo_tags == ("busybox:latest",)
    assert img.config.config.cmd == ("sh",) and img.chain_id == img.config.diff_ids[0]
    for ref in ["busybox:latest", "docker.io/library/busybox:latest", "library/busybox", img.id, hex_,
                hex_[:12], hex_[:1], "sha256:" + hex_[:5]]:
        assert svc.resolve(ref).id == img.id, ref
    assert svc.resolve(hex_).name == ""
    with pytest.raises(ImageNotFound, match="^No such image: busybox:1.0$"):
        svc.resolve("busybox:1.0")
    with pytest.raises(ImageNotFound, match="^No such image: nothere:latest$"):
        svc.resolve("nothere")
    with pytest.raises(ImageNotFound):
        svc.resolve("sha256:" + "0" * 64)
    with pytest.raises(InvalidReference, match="must be lowercase"):
        svc.resolve("Busybox")


def test_ambiguous_prefix_is_not_found(svc):
    svc.load(io.BytesIO(image_archive([layer(E("a", data=b"1"))], ["one:latest"])))
    svc.load(io.BytesIO(image_archive([layer(E("a", data=b"2"))], ["two:latest"])))
    ids = [svc.resolve(n).id[7:] for n in ("one", "two")]
    common = os.path.commonprefix(ids)
    if common:
        with pytest.raises(ImageNotFound):
            svc.resolve(common)
    assert svc.resolve(ids[0][: len(common) + 1]).id[7:] == ids[0]


def test_legacy_format_with_symlinked_layer(svc):
    l1 = layer(dir_("etc"), E("etc/one", data=b"1"))
    l2 = layer(E("etc/two", data=b"2"))
    data = image_archive([l1, l2], ["legacy:1"], legacy=True)
    # re-pack with a symlink standing in for layer 2 (as old docker save did for shared layers)
    src = tarfile.open(fileobj=io.BytesIO(data))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as out:
        for m in src.getmembers():
            if m.name == f"{1:064x}/layer.tar":
                out.addfile(m, src.extractfile(m))
                ti = tarfile.TarInfo(f"{2:064x}/layer.tar")
                ti.type, ti.linkname = tarfile.SYMTYPE, f"../{1:064x}/layer.tar"
                out.addfile(ti)
            elif m.name == "manifest.json":
                man = json.load(src.extractfile(m))
                man[0]["Layers"][1] = f"{2:064x}/layer.tar"
                b = json.dumps(man).encode()
                m.size = len(b)
                out.addfile(m, io.BytesIO(b))
            else:
                out.addfile(m, src.extractfile(m))
    assert svc.load(io.BytesIO(buf.getvalue())) == ["legacy:1"]
    img = svc.resolve("legacy:1")
    svc.prepare_rootfs("c", img.id)
    assert svc.read_rootfs_file("c", "/etc/one") == b"1"
    assert svc.read_rootfs_file("c", "/etc/two") == b"2"


def test_oci_layout_without_manifest_json(svc, seed_tar):
    with tarfile.open(fileobj=io.BytesIO(seed_tar)) as src:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as out:
            for m in src.getmembers():
                if m.name != "manifest.json":
                    out.addfile(m, src.extractfile(m) if m.isfile() else None)
    assert svc.load(io.BytesIO(buf.getvalue())) == ["busybox:latest"]


def test_untagged_image_and_retag_makes_dangling(svc):
    a = image_archive([layer(E("f", data=b"a"))], ["app:1"])
    b = image_archive([layer(E("f", data=b"b"))], ["app:1"])
    svc.load(io.BytesIO(a))
    old = svc.resolve("app:1").id
    svc.load(io.BytesIO(b))
    assert svc.resolve("app:1").id != old
    assert svc.resolve(old).repo_tags == ()  # <none>:<none>, still there
    dangling = svc.list_json(filters={"dangling": ["true"]})
    assert [d["Id"] for d in dangling] == [old] and dangling[0]["RepoTags"] == []
    untagged = image_archive([layer(E("f", data=b"c"))], [])
    [loaded] = svc.load(io.BytesIO(untagged))
    assert loaded.startswith("sha256:") and svc.resolve(loaded).repo_tags == ()
    # tagging a dangling image later removes its dangling record
    svc.load(io.BytesIO(a))
    assert not any(is_dangling(r.name) for r in svc.images.by_id(old))


@pytest.mark.parametrize("mutate, exc", [
    (lambda files: files.__setitem__("manifest.json", b"{not json"), InvalidArgument),
    (lambda files: files.__setitem__("manifest.json", b'[{"Config": "../../etc/passwd", "Layers": []}]'),
     InvalidArgument),
    (lambda files: files.__setitem__("manifest.json", b'[{"Config": "nope.json", "Layers": []}]'), InvalidArgument),
    (lambda files: files.pop("manifest.json"), InvalidArgument),
])
def test_bad_archives_leave_nothing(svc, tmp_path, mutate, exc):
    data = image_archive([layer(E("f", data=b"x"))], ["bad:1"])
    files = unpack_tar(data)
    mutate(files)
    with pytest.raises(exc):
        svc.load(io.BytesIO(pack_tar(files)))
    assert blobs(tmp_path) == [] and snapshot_dirs(tmp_path) == [] and svc.images.list() == []


def test_tampered_blob_is_refused(svc, tmp_path):
    l1 = layer(E("f", data=b"x"))
    files = unpack_tar(image_archive([l1], ["bad:1"]))
    files[f"blobs/sha256/{sha(l1)[7:]}"] = layer(E("f", data=b"EVIL"))
    with pytest.raises(DigestMismatch):
        svc.load(io.BytesIO(pack_tar(files)))
    assert blobs(tmp_path) == [] and svc.images.list() == []


def test_wrong_diff_id_leaves_nothing(svc, tmp_path):
    good = layer(E("a", data=b"1"))
    l2 = layer(E("b", data=b"2"))
    data = image_archive([good, l2], ["bad:1"], diff_ids=[sha(good), sha(b"not the layer")])
    with pytest.raises(DigestMismatch):
        svc.load(io.BytesIO(data))
    assert blobs(tmp_path) == [] and snapshot_dirs(tmp_path) == [] and svc.images.list() == []
    assert list(svc.snapshotter.walk()) == []


def test_unsafe_layer_in_archive(svc, tmp_path):
    data = image_archive([layer(sym("l", "/"), E("l/tmp/evil", data=b"x"))], ["bad:1"])
    with pytest.raises(InvalidArgument, match="l/tmp/evil"):
        svc.load(io.BytesIO(data))
    assert snapshot_dirs(tmp_path) == [] and svc.images.list() == []


def test_bad_tag_refused(svc, tmp_path):
    with pytest.raises(InvalidReference):
        svc.load(io.BytesIO(image_archive([layer(E("f"))], ["Bad:1"])))
    assert svc.images.list() == []


def unpack_tar(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        return {m.name: tf.extractfile(m).read() for m in tf.getmembers() if m.isfile()}


def pack_tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, b in files.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(b)
            tf.addfile(ti, io.BytesIO(b))
    return buf.getvalue()


# -- rootfs ------------------------------------------------------------------------
def test_rootfs_lifecycle_and_reads(svc):
    l1 = layer(dir_("etc"), E("etc/passwd", data=b"root:x:0:0::/root:/bin/sh\n"), E("etc/group", data=b"g1\n"),
               dir_("data"), E("data/f", data=b"low"), E("etc/real", data=b"real"),
               sym("etc/link", "real"), sym("etc/abs", "/etc/real"), sym("etc/escape", "../../../../etc/real"),
               sym("etc/loop", "loop"), dir_("was_dir"), E("was_dir/f", data=b"old"))
    l2 = layer(E("etc/group", data=b"g2\n"), E("was_dir", data=b"now a file"))
    svc.load(io.BytesIO(image_archive([l1, gz(l2)], ["fs:1"])))
    img = svc.resolve("fs:1")
    mounts = svc.prepare_rootfs("ctr", img.id)
    assert mounts[0].type == "overlay"
    upper = [o for o in mounts[0].options if o.startswith("upperdir=")][0][len("upperdir="):]
    assert svc.read_rootfs_file("ctr", "/etc/passwd").startswith(b"root:x:0:0")
    assert svc.read_rootfs_file("ctr", "etc/group") == b"g2\n"  # upper layer wins
    assert svc.read_rootfs_file("ctr", "/etc/link") == b"real"
    assert svc.read_rootfs_file("ctr", "/etc/abs") == b"real"
    assert svc.read_rootfs_file("ctr", "/etc/escape") == b"real"  # ".." stops at the container root
    assert svc.read_rootfs_file("ctr", "/etc/loop") is None
    assert svc.read_rootfs_file("ctr", "/etc") is None
    assert svc.read_rootfs_file("ctr", "/nope") is None
    assert svc.read_rootfs_file("ctr", "/was_dir/f") is None  # a file in an upper layer hides the dir
    Path(upper, "etc").mkdir()
    Path(upper, "etc/passwd").write_bytes(b"changed\n")
    os.symlink("/etc/real", Path(upper, "etc/group"))
    assert svc.read_rootfs_file("ctr", "/etc/passwd") == b"changed\n"
    assert svc.read_rootfs_file("ctr", "/etc/group") == b"real"
    svc.remove_rootfs("ctr")
    svc.remove_rootfs("ctr")  # idempotent
    with pytest.raises(Exception):
        svc.read_rootfs_file("ctr", "/etc/passwd")


def test_image_without_layers(svc):
    svc.load(io.BytesIO(image_archive([], ["empty:1"])))
    [m] = svc.prepare_rootfs("c", "empty:1")
    assert m.type == "bind"
    assert svc.inspect_json("empty:1")["GraphDriver"]["Data"] == {}


# -- API shapes -----------------------------------------------------------------------
@needs_busybox
def test_list_and_inspect_shapes(svc, seed_tar):
    svc.load(io.BytesIO(seed_tar))
    svc.load(io.BytesIO(image_archive([layer(E("f"))], ["other/app:2"], labels={"a": "b"},
                                      created="2025-01-01T00:00:00.123456789Z")))
    listed = svc.list_json()
    assert [s["RepoTags"] for s in listed] == [["other/app:2"], ["busybox:latest"]]  # newest first
    bb = listed[1]
    assert set(bb) == {"Id", "ParentId", "RepoTags", "RepoDigests", "Created", "Size", "SharedSize", "Labels",
                       "Containers"}
    assert bb["Created"] == seed.MTIME and bb["Size"] > 1_000_000 and bb["SharedSize"] == -1
    assert bb["Containers"] == -1 and bb["Labels"] is None and listed[0]["Labels"] == {"a": "b"}
    assert [s["RepoTags"] for s in svc.list_json(filters={"reference": ["busybox"]})] == [["busybox:latest"]]
    assert [s["RepoTags"] for s in svc.list_json(filters={"reference": ["bus*:lat*"]})] == [["busybox:latest"]]
    assert [s["RepoTags"] for s in svc.list_json(filters={"reference": ["other/*"]})] == [["other/app:2"]]
    assert svc.list_json(filters={"reference": ["*"]})[0]["RepoTags"] == ["busybox:latest"]  # * stops at "/"
    assert [s["RepoTags"] for s in svc.list_json(filters={"label": ["a=b"]})] == [["other/app:2"]]
    assert [s["RepoTags"] for s in svc.list_json(filters={"before": ["other/app:2"]})] == [["busybox:latest"]]
    assert [s["RepoTags"] for s in svc.list_json(filters={"since": ["busybox"]})] == [["other/app:2"]]
    assert svc.list_json(filters={"dangling": ["true"]}) == []
    with pytest.raises(InvalidArgument):
        svc.list_json(filters={"bogus": ["1"]})
    with pytest.raises(InvalidArgument):
        svc.list_json(filters={"dangling": ["maybe"]})

    doc = svc.inspect_json("busybox")
    assert doc["Id"] == bb["Id"] and doc["RepoTags"] == ["busybox:latest"] and doc["RepoDigests"] == []
    assert doc["Created"] == seed.CREATED and doc["Parent"] == "" and doc["Os"] == "linux"
    assert doc["Config"]["Cmd"] == ["sh"] and doc["Config"]["Entrypoint"] is None
    assert doc["Config"]["WorkingDir"] == "" and doc["Config"]["User"] == "" and doc["Config"]["Labels"] is None
    assert doc["RootFS"] == {"Type": "layers", "Layers": list(svc.resolve("busybox").config.diff_ids)}
    assert doc["GraphDriver"]["Name"] == "overlay2" and doc["Size"] == bb["Size"]
    assert os.path.isdir(doc["GraphDriver"]["Data"]["UpperDir"])
    assert doc["Metadata"]["LastTagTime"].endswith("Z")
    assert "VirtualSize" not in doc and "ContainerConfig" not in doc
    assert json.loads(json.dumps(doc)) == doc


def test_load_publishes_a_load_event(svc, seed_tar):
    from dockyard.daemon.events import InMemoryEventBus

    bus = InMemoryEventBus()
    svc.events = bus
    sub = bus.subscribe()
    svc.load(io.BytesIO(seed_tar))
    event = sub.get(timeout=0)
    assert (event.type, event.action, dict(event.attributes)) == ("image", "load", {"name": "busybox:latest"})
    assert event.actor_id == svc.resolve("busybox").id


def test_load_keeps_only_referenced_blobs_so_rmi_frees_all(svc, tmp_path):
    l1 = layer(dir_("etc"), E("etc/one", data=b"1"))
    src = tarfile.open(fileobj=io.BytesIO(image_archive([l1], ["orphans:1"])))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as out:  # plus what old docker save wrote beside the layers
        for m in src.getmembers():
            out.addfile(m, src.extractfile(m) if m.isfile() else None)
        for name, body in ((f"{7:064x}/json", b'{"id": "x"}'), (f"{7:064x}/VERSION", b"1.0"), ("extra.bin", b"?")):
            ti = tarfile.TarInfo(name)
            ti.size = len(body)
            out.addfile(ti, io.BytesIO(body))
    data = buf.getvalue()
    svc.load(io.BytesIO(data))
    stored = blobs(tmp_path)
    assert len(stored) == 3  # config, layer, generated manifest
    assert not {hashlib.sha256(b).hexdigest() for b in (b'{"id": "x"}', b"1.0", b"?")} & set(stored)
    svc.remove("orphans:1")
    assert blobs(tmp_path) == []
