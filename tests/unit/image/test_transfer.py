"""save, import, history and image creation on real stores (no daemon, no root needed)."""

import io
import json
import os
import tarfile

import pytest

from dockyard.errors import ImageNotFound, InvalidArgument
from dockyard.image.changes import apply_changes
from dockyard.image.service import ImageService
from dockyard.image.transfer import EMPTY_LAYER, ImageTransfer, NewImage
from dockyard.store.content.local import LocalContentStore
from dockyard.store.snapshots.overlay import OverlaySnapshotter
from dockyard.store.statedb.sqlite import SqliteStateDB
from .layertars import E, dir_, gz, image_archive, layer, sha


@pytest.fixture
def tx(tmp_path):
    db = SqliteStateDB(tmp_path / "state.db")
    sn = OverlaySnapshotter(tmp_path)
    yield ImageTransfer(ImageService(LocalContentStore(tmp_path), db.images, sn, tmp_path))
    sn.close()
    db.close()


BASE = layer(dir_("bin"), E("bin/sh", data=b"#!sh", mode=0o755), dir_("etc"), E("etc/passwd", data=b"root\n"))
TOP = layer(E("etc/motd", data=b"hi"))


def load(tx, data: bytes) -> list[str]:
    return tx.images.load(io.BytesIO(data))


def test_save_is_a_docker_archive_and_an_oci_layout(tx):
    load(tx, image_archive([gz(BASE), TOP], ["app:1", "app:2"]))
    data = b"".join(tx.save(["app"]))  # a bare repository saves every tag
    tf = tarfile.open(fileobj=io.BytesIO(data))
    names = tf.getnames()
    assert names[:2] == ["blobs", "blobs/sha256"] and names[-4:] == ["index.json", "manifest.json", "oci-layout",
                                                                     "repositories"]
    assert {m.mtime for m in tf.getmembers()} == {0} and {m.uid for m in tf.getmembers()} == {0}
    manifest = json.loads(tf.extractfile("manifest.json").read())
    assert manifest[0]["RepoTags"] == ["app:1", "app:2"] and len(manifest[0]["Layers"]) == 2
    index = json.loads(tf.extractfile("index.json").read())
    refs = [m["annotations"]["org.opencontainers.image.ref.name"] for m in index["manifests"]]
    assert refs == ["1", "2"] and index["manifests"][0]["annotations"]["io.containerd.image.name"] == \
        "docker.io/library/app:1"
    oci_manifest = json.loads(tf.extractfile("blobs/sha256/" + index["manifests"][0]["digest"][7:]).read())
    assert [layer["mediaType"] for layer in oci_manifest["layers"]] == [
        "application/vnd.oci.image.layer.v1.tar+gzip", "application/vnd.oci.image.layer.v1.tar"]
    assert json.loads(tf.extractfile("repositories").read()) == {"app": {"1": sha(TOP)[7:], "2": sha(TOP)[7:]}}


def test_save_load_save_is_byte_identical(tx, tmp_path):
    load(tx, image_archive([gz(BASE), TOP], ["app:1"]))
    first = b"".join(tx.save(["app:1"]))
    other = ImageTransfer(ImageService(LocalContentStore(tmp_path / "b"), SqliteStateDB(tmp_path / "b.db").images,
                                       OverlaySnapshotter(tmp_path / "b"), tmp_path / "b"))
    assert load(other, first) == ["app:1"]
    assert b"".join(other.save(["app:1"])) == first
    oci = b"".join(tx.save(["app:1"], "oci"))
    assert "manifest.json" not in tarfile.open(fileobj=io.BytesIO(oci)).getnames()
    assert load(other, oci) == ["app:1"]  # the OCI layout alone loads too (tags from the annotations)


def test_save_by_id_has_no_tags_and_unknown_is_404_before_any_byte(tx):
    load(tx, image_archive([BASE], ["app:1"]))
    img = tx.images.resolve("app:1")
    tf = tarfile.open(fileobj=io.BytesIO(b"".join(tx.save([img.id[7:19]]))))
    assert json.loads(tf.extractfile("manifest.json").read())[0]["RepoTags"] is None
    with pytest.raises(ImageNotFound):
        tx.save(["nope:1"])
    with pytest.raises(InvalidArgument):
        tx.save(["app:1"], "zip")


def test_import_with_changes_and_history(tx):
    image_id = tx.import_(io.BytesIO(gz(BASE)), repo="imp", tag="1", changes=["CMD [\"/bin/sh\"]", "ENV A=1"])
    img = tx.images.resolve("imp:1")
    assert img.id == image_id and img.config.diff_ids == (sha(BASE),)
    assert img.raw_config["config"] == {"Cmd": ["/bin/sh"], "Env": ["A=1"]}
    hist = tx.history("imp:1")
    assert len(hist) == 1 and hist[0]["Comment"] == "Imported from -" and hist[0]["Tags"] == ["imp:1"]
    assert hist[0]["Id"] == image_id and hist[0]["Size"] > 0


def test_new_image_on_a_parent_and_empty_layer(tx):
    tx.import_(io.BytesIO(BASE), repo="base", tag="1")
    parent = tx.images.resolve("base:1")
    cfg = json.loads(json.dumps(dict(parent.raw_config)))
    new_id = tx.create(iter([TOP]), NewImage(cfg, {"created_by": "make motd"}, ("docker.io/library/top:1",),
                                             parent=parent.id))
    top = tx.images.resolve("top:1")
    assert top.id == new_id and top.config.diff_ids == (sha(BASE), sha(TOP))
    assert tx.images.read_rootfs_file(top.chain_id, "/etc/motd") == b"hi"
    hist = tx.history("top:1")
    assert [h["CreatedBy"] for h in hist] == ["make motd", ""] and hist[1]["Id"] == parent.id
    empty = tx.create(iter([b"\0" * 1024]), NewImage(cfg, {"created_by": "nothing"}, (), parent=parent.id))
    img = tx.images.resolve(empty)
    assert img.config.diff_ids == (sha(BASE),) and img.config.history[-1]["empty_layer"] is True
    assert sha(b"\0" * 1024) == EMPTY_LAYER


def test_failed_create_leaves_nothing(tx, tmp_path):
    blobs_before = sorted(os.listdir(tmp_path / "content/blobs/sha256")) if (tmp_path / "content").exists() else []
    bad = layer(E("../evil", data=b"x"))
    with pytest.raises(InvalidArgument):
        tx.import_(io.BytesIO(bad), repo="bad")
    assert sorted(os.listdir(tmp_path / "content/blobs/sha256")) == blobs_before
    with pytest.raises(ImageNotFound):
        tx.images.resolve("bad")


@pytest.mark.parametrize("changes, expected", [
    (["CMD echo \"a b\""], {"Cmd": ["/bin/sh", "-c", "echo \"a b\""]}),
    (["ENTRYPOINT [\"/bin/sh\"]"], {"Entrypoint": ["/bin/sh"]}),
    (["ENV A=1 B=\"x y\""], {"Env": ["PATH=/bin", "A=1", "B=x y"]}),
    (["ENV PATH /usr/bin"], {"Env": ["PATH=/usr/bin"]}),
    (["EXPOSE 80 53/udp"], {"ExposedPorts": {"80/tcp": {}, "53/udp": {}}}),
    (["LABEL a=b", "VOLUME /data", "USER nobody"], {"Labels": {"a": "b"}, "Volumes": {"/data": {}}, "User": "nobody"}),
    (["WORKDIR /a", "WORKDIR b"], {"WorkingDir": "/a/b"}),
    (["ONBUILD RUN x", "STOPSIGNAL SIGINT"], {"OnBuild": ["RUN x"], "StopSignal": "SIGINT"}),
])
def test_changes(changes, expected):
    base = {"Env": ["PATH=/bin"]}
    out = apply_changes(base, changes)
    assert out == {**base, **expected}
    assert base == {"Env": ["PATH=/bin"]}


@pytest.mark.parametrize("change, message", [
    ("RUN echo", "run is not a valid change command"),
    ("FOO bar", "foo is not a valid change command"),
    ("ENV X", "ENV must have two arguments"),
    ("EXPOSE", "EXPOSE requires at least one argument"),
    ("CMD [\"unclosed\"", "invalid JSON array"),
])
def test_invalid_changes(change, message):
    with pytest.raises(InvalidArgument, match=message.replace("[", r"\[")):
        apply_changes({}, [change])
