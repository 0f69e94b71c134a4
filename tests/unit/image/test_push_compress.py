"""Compress-on-push: uncompressed layers go up as gzip, remembered by DiffID; compressed ones byte for byte (fakes)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
from typing import BinaryIO, Callable

import pytest

from dockyard.core.digest import of_bytes
from dockyard.core.reference import parse
from dockyard.errors import Unavailable
from dockyard.image.layer_compress import MemoryLayerBlobs, compress_layer, rewrite_manifest
from dockyard.image.push import push
from dockyard.oci import image as oci
from dockyard.store.content.local import LocalContentStore
from dockyard.store.statedb.layerblobs import SqliteLayerBlobs
from dockyard.store.statedb.sqlite import SqliteStateDB


class FakePusher:
    """A registry repository in memory; ``fail_manifest`` makes the manifest PUT fail."""

    def __init__(self, fail_manifest: bool = False) -> None:
        self.blobs: dict[str, bytes] = {}
        self.manifests: dict[str, tuple[str, bytes]] = {}
        self.fail_manifest = fail_manifest

    def pusher(self, ref):  # type: ignore[no-untyped-def]
        return self

    def exists(self, desc: oci.Descriptor) -> bool:
        return desc.digest in self.blobs

    def mount(self, desc: oci.Descriptor, from_repo: str) -> bool:
        return False

    def push_blob(self, desc: oci.Descriptor, open_blob: Callable[[], BinaryIO],
                  on_progress: Callable[[int], None] | None = None) -> None:
        with open_blob() as f:
            data = f.read()
        assert of_bytes(data) == desc.digest and len(data) == desc.size
        self.blobs[desc.digest] = data

    def push_manifest(self, desc: oci.Descriptor, data: bytes, tag: str) -> None:
        if self.fail_manifest:
            raise Unavailable("registry went away")
        assert of_bytes(data) == desc.digest
        self.manifests[tag] = (desc.media_type, data)


def _put(content: LocalContentStore, data: bytes) -> str:
    d = of_bytes(data)
    with content.writer(f"t-{d}") as w:
        w.write(data)
        w.commit(len(data), d)
    return str(d)


def _image(content: LocalContentStore, layers: list[bytes], media: str = oci.DOCKER_LAYER) -> oci.Descriptor:
    diff_ids = [_put(content, t) for t in layers]
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    cdig = _put(content, config)
    doc = {"schemaVersion": 2, "mediaType": oci.DOCKER_MANIFEST,
           "config": {"mediaType": oci.DOCKER_CONFIG, "digest": cdig, "size": len(config)},
           "layers": [{"mediaType": media, "digest": d, "size": len(t)} for d, t in zip(diff_ids, layers)]}
    data = json.dumps(doc, indent=3).encode()
    return oci.Descriptor(oci.DOCKER_MANIFEST, _put(content, data), len(data))


def _tars(n: int) -> list[bytes]:
    return [os.urandom(3000) + b"text %d\n" % i * 5000 for i in range(n)]


def test_uncompressed_layers_are_pushed_as_gzip_of_the_diff_ids(tmp_path) -> None:
    content = LocalContentStore(tmp_path)
    tars = _tars(3)
    manifest = _image(content, tars)
    reg, events = FakePusher(), []
    pushed = push(content, reg, parse("127.0.0.1:5000/a/b:1"), manifest, events.append, layer_blobs=MemoryLayerBlobs())
    media, data = reg.manifests["1"]
    doc = json.loads(data)
    assert media == oci.DOCKER_MANIFEST and pushed.digest == str(of_bytes(data)) != manifest.digest
    assert pushed.manifest is not None and content.exists(pushed.manifest.digest)
    assert [x["mediaType"] for x in doc["layers"]] == [oci.DOCKER_LAYER_GZIP] * 3
    for layer, tar in zip(doc["layers"], tars):
        blob = reg.blobs[layer["digest"]]
        assert blob[:2] == b"\x1f\x8b" and gzip.decompress(blob) == tar and len(blob) < len(tar)
    assert doc["config"]["digest"] in reg.blobs  # the same config: the image id is unchanged
    # Progress ids are the DiffIDs' short ids, as Docker shows them.
    ids = {e.id for e in events if e.status == "Pushed"}
    assert ids == {hashlib.sha256(t).hexdigest()[:12] for t in tars}


def test_second_push_reuses_the_gzip_blobs(tmp_path, monkeypatch) -> None:
    content = LocalContentStore(tmp_path)
    manifest = _image(content, _tars(2))
    cache = SqliteLayerBlobs(SqliteStateDB(tmp_path / "state.db"))
    first = push(content, FakePusher(), parse("r.test/a:1"), manifest, lambda _e: None, layer_blobs=cache)
    import dockyard.image.push as push_mod

    def no_compression(*_a, **_k):  # type: ignore[no-untyped-def]
        raise AssertionError("compressed again")

    monkeypatch.setattr(push_mod, "compress_layer", no_compression)
    other, events = FakePusher(), []  # another repository: uploads again, from the stored gzip blobs
    again = push(content, other, parse("r.test/b:1"), manifest, events.append, layer_blobs=cache)
    assert again.digest == first.digest and len(other.blobs) == 3
    # A push of the rewritten manifest (the RepoDigest's record) goes byte for byte.
    assert first.manifest is not None
    same = push(content, other, parse("r.test/b:2"), first.manifest, events.append, layer_blobs=cache)
    assert same.digest == first.digest
    assert [e.status for e in events].count("Layer already exists") == 2


def test_compressed_layers_go_byte_for_byte(tmp_path) -> None:
    content = LocalContentStore(tmp_path)
    tars = [gzip.compress(t) for t in _tars(2)]
    manifest = _image(content, tars, oci.DOCKER_LAYER_GZIP)
    reg = FakePusher()
    pushed = push(content, reg, parse("r.test/a:1"), manifest, lambda _e: None)
    assert pushed.digest == manifest.digest and reg.manifests["1"][1] == content.read(manifest.digest)


def test_failed_push_leaves_no_compressed_blob(tmp_path) -> None:
    content = LocalContentStore(tmp_path)
    manifest = _image(content, _tars(2))
    before = {b.digest for b in content.walk()}
    with pytest.raises(Unavailable):
        push(content, FakePusher(fail_manifest=True), parse("r.test/a:1"), manifest, lambda _e: None,
             layer_blobs=MemoryLayerBlobs())
    assert {b.digest for b in content.walk()} == before and not content.ingests()


def test_compress_layer_and_rewrite_manifest_keep_everything_else(tmp_path) -> None:
    content = LocalContentStore(tmp_path)
    tar = _tars(1)[0]
    d = _put(content, tar)
    desc, new = compress_layer(content, oci.Descriptor(oci.OCI_LAYER, d, len(tar), {"a": "b"}))
    assert new and desc.media_type == oci.OCI_LAYER_GZIP and desc.annotations == {"a": "b"}
    blob = content.read(desc.digest)
    assert gzip.decompress(blob) == tar and len(blob) == desc.size
    assert compress_layer(content, oci.Descriptor(oci.OCI_LAYER, d, len(tar)))[1] is False  # reproducible
    doc = {"schemaVersion": 2, "config": {"digest": "sha256:c"}, "annotations": {"x": "y"},
           "layers": [{"mediaType": oci.OCI_LAYER, "digest": d, "size": len(tar), "urls": ["u"]},
                      {"mediaType": oci.OCI_LAYER_GZIP, "digest": "sha256:kept", "size": 1}]}
    out = json.loads(rewrite_manifest(doc, {d: desc}))
    assert out["layers"][0] == {"mediaType": oci.OCI_LAYER_GZIP, "digest": desc.digest, "size": desc.size,
                                "urls": ["u"]}
    assert out["layers"][1] == doc["layers"][1] and out["annotations"] == {"x": "y"}
    assert out["config"] == doc["config"]


def test_sqlite_layer_blobs_persist(tmp_path) -> None:
    db = SqliteStateDB(tmp_path / "state.db")
    SqliteLayerBlobs(db).put("sha256:tar", oci.Descriptor(oci.DOCKER_LAYER_GZIP, "sha256:gz", 12))
    db.close()
    blobs = SqliteLayerBlobs(SqliteStateDB(tmp_path / "state.db"))
    assert blobs.get("sha256:tar", oci.DOCKER_LAYER_GZIP) == oci.Descriptor(oci.DOCKER_LAYER_GZIP, "sha256:gz", 12)
    assert blobs.get("sha256:tar", oci.OCI_LAYER_GZIP) is None


def test_gzip_output_is_readable_by_zlib(tmp_path) -> None:
    # ISA-L writes plain gzip: any client (Docker's Go gzip, zlib) reads it.
    content = LocalContentStore(tmp_path)
    tar = _tars(1)[0]
    desc, _ = compress_layer(content, oci.Descriptor(oci.DOCKER_LAYER, _put(content, tar), len(tar)))
    with gzip.GzipFile(fileobj=io.BytesIO(content.read(desc.digest))) as g:
        assert g.read() == tar


def test_untagging_the_pushed_name_frees_the_gzip_manifest_and_blobs(tmp_path) -> None:
    from datetime import datetime, timezone

    from dockyard.core.images import ImageRecord
    from dockyard.image.remove import Remover

    content = LocalContentStore(tmp_path)
    manifest = _image(content, _tars(2))
    pushed = push(content, FakePusher(), parse("r.test/a:1"), manifest, lambda _e: None)
    assert pushed.manifest is not None
    db = SqliteStateDB(":memory:")
    config = json.loads(content.read(manifest.digest))["config"]["digest"]
    now = datetime.now(timezone.utc)
    db.images.put(ImageRecord("docker.io/library/app:1", manifest, config, now))
    db.images.put(ImageRecord(f"r.test/a@{pushed.digest}", pushed.manifest, config, now))
    gz = [x["digest"] for x in json.loads(content.read(pushed.digest))["layers"]]
    remover = Remover(content, db.images, None, lambda _id: [], lambda _id: None)  # type: ignore[arg-type]
    remover.remove_by_name(db.images.get(f"r.test/a@{pushed.digest}"), False)
    assert not any(content.exists(d) for d in [*gz, pushed.digest])
    # What the remaining name uses stays: its manifest, config and tar layers.
    assert all(content.exists(d["digest"]) for d in json.loads(content.read(manifest.digest))["layers"])
    assert content.exists(config) and content.exists(manifest.digest)
