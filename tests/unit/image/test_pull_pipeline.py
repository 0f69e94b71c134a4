"""Pull pipeline: layers unpack while others download, commit bottom-up, and clean up on failure (fakes)."""

from __future__ import annotations

import io
import json
import os
import threading
from pathlib import Path

import pytest

from dockyard.core.digest import chain_id, of_bytes
from dockyard.core.progress import Progress, short_id
from dockyard.core.reference import parse
from dockyard.errors import DigestMismatch
from dockyard.image import platforms
from dockyard.image.pull import pull
from dockyard.oci import image as oci
from dockyard.store.content.local import LocalContentStore
from dockyard.store.snapshots.overlay import OverlaySnapshotter

from .layertars import E, gz, layer, sha

WAIT = 10  # seconds: a bound only; the events fire at once when the pipeline overlaps


class GatedBody(io.RawIOBase):
    """A blob body that sends nothing until ``gate`` is set (or WAIT passes)."""

    def __init__(self, data: bytes, gate: threading.Event) -> None:
        super().__init__()
        self._data, self._gate, self.opened_gate = io.BytesIO(data), gate, False

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
        if not self.opened_gate:
            self.opened_gate = self._gate.wait(WAIT)
        chunk = self._data.read(len(b))
        b[: len(chunk)] = chunk
        return len(chunk)


class FakeResolver:
    def __init__(self, blobs: dict[str, bytes], manifest: bytes, gated: dict[str, GatedBody]) -> None:
        self.blobs, self.manifest, self.gated = blobs, manifest, gated

    def resolve(self, ref):  # type: ignore[no-untyped-def]
        return oci.Descriptor(oci.OCI_MANIFEST, of_bytes(self.manifest), len(self.manifest))

    def fetcher(self, ref):  # type: ignore[no-untyped-def]
        return self

    def fetch(self, desc):  # type: ignore[no-untyped-def]
        if desc.digest in self.gated:
            return self.gated[desc.digest]
        if desc.digest == of_bytes(self.manifest):
            return io.BytesIO(self.manifest)
        return io.BytesIO(self.blobs[desc.digest])


def image(tars: list[bytes], diff_ids: list[str] | None = None) -> tuple[dict[str, bytes], bytes, list[str]]:
    blobs = [gz(t) for t in tars]
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": diff_ids or [sha(t) for t in tars]}}).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": oci.OCI_MANIFEST,
        "config": {"mediaType": oci.OCI_CONFIG, "digest": of_bytes(config), "size": len(config)},
        "layers": [{"mediaType": oci.OCI_LAYER_GZIP, "digest": of_bytes(b), "size": len(b)} for b in blobs]}).encode()
    return {of_bytes(config): config, **{of_bytes(b): b for b in blobs}}, manifest, [of_bytes(b) for b in blobs]


def test_a_later_layer_unpacks_while_the_first_still_downloads(tmp_path) -> None:
    tars = [layer(E(f"l{i}", data=b"%d" % i * 1000), E("shared", data=b"%d" % i)) for i in range(3)]
    blobs, manifest, digests = image(tars)
    top_extracted = threading.Event()
    first = GatedBody(blobs[digests[0]], top_extracted)  # layer 0 arrives only after layer 2 is unpacked
    content, sn = LocalContentStore(tmp_path), OverlaySnapshotter(tmp_path)
    events: list[Progress] = []

    def sink(p: Progress) -> None:
        events.append(p)
        if p.status == "Extracting" and p.id == short_id(digests[2]) and p.current:
            top_extracted.set()

    pulled = pull(content, sn, FakeResolver(blobs, manifest, {digests[0]: first}), parse("127.0.0.1:1/x/y:1"),
                  platforms.parse("linux/amd64"), sink)
    assert first.opened_gate, "layer 2 was not unpacked until layer 0 had downloaded"
    diff_ids = [sha(t) for t in tars]
    chains = [chain_id(diff_ids[: i + 1]) for i in range(3)]
    infos = {i.name: i for i in sn.walk()}
    assert set(infos) == set(chains), "only the committed layers remain (no scratch snapshots)"
    assert [infos[c].parent for c in chains] == ["", chains[0], chains[1]]
    lower = [o for o in sn.mounts(chains[2])[0].options if o.startswith("lowerdir=")][0][len("lowerdir="):]
    dirs = lower.split(":")  # top first
    assert [Path(d, "shared").read_text() for d in dirs] == ["2", "1", "0"]
    completes = [p.id for p in events if p.status == "Pull complete"]
    assert completes == [short_id(d) for d in digests], "commits go bottom-up"
    assert pulled.image_id == next(d for d, b in blobs.items() if b.startswith(b"{"))
    assert len([n for n in os.listdir(sn.root) if not n.startswith("metadata.db")]) == 3, "scratch dirs are gone"


def test_a_wrong_diff_id_fails_the_pull_and_leaves_nothing(tmp_path) -> None:
    tars = [layer(E(f"l{i}", data=b"x" * 100)) for i in range(3)]
    diff_ids = [sha(t) for t in tars]
    diff_ids[1] = "sha256:" + "ee" * 32
    blobs, manifest, _ = image(tars, diff_ids)
    content, sn = LocalContentStore(tmp_path), OverlaySnapshotter(tmp_path)
    with pytest.raises(DigestMismatch, match="layer diff id mismatch"):
        pull(content, sn, FakeResolver(blobs, manifest, {}), parse("127.0.0.1:1/x/y:1"),
             platforms.parse("linux/amd64"), lambda p: None)
    assert list(sn.walk()) == []
    assert [n for n in os.listdir(sn.root) if n != "metadata.db" and not n.startswith("metadata.db-")] == []
    assert not any(content.exists(d) for d in blobs)


def test_a_tampered_blob_after_others_unpacked_leaves_no_snapshot_or_scratch(tmp_path) -> None:
    tars = [layer(E(f"l{i}", data=b"y" * 100)) for i in range(3)]
    blobs, manifest, digests = image(tars)
    tampered = bytearray(blobs[digests[2]])
    tampered[-12] ^= 0xFF
    others_unpacked = threading.Event()
    seen: set[str] = set()

    def sink(p: Progress) -> None:
        if p.status == "Extracting" and p.current:
            seen.add(p.id or "")
            if {short_id(digests[0]), short_id(digests[1])} <= seen:
                others_unpacked.set()

    late = GatedBody(bytes(tampered), others_unpacked)
    content, sn = LocalContentStore(tmp_path), OverlaySnapshotter(tmp_path)
    with pytest.raises(DigestMismatch, match=f"filesystem layer verification failed for digest {digests[2]}"):
        pull(content, sn, FakeResolver(blobs, manifest, {digests[2]: late}), parse("127.0.0.1:1/x/y:1"),
             platforms.parse("linux/amd64"), sink)
    assert late.opened_gate, "layers 0 and 1 were not unpacked while layer 2 downloaded"
    assert list(sn.walk()) == []
    assert [n for n in os.listdir(sn.root) if not n.startswith("metadata.db")] == []
    assert not any(content.exists(d) for d in blobs)


def test_a_layer_whose_parent_is_there_unpacks_in_place(tmp_path) -> None:
    """The bottom layer (and any whose parent is committed) needs no scratch snapshot: one directory, id 1."""
    tars = [layer(E("only", data=b"z" * 100))]
    blobs, manifest, _ = image(tars)
    content, sn = LocalContentStore(tmp_path), OverlaySnapshotter(tmp_path)
    pull(content, sn, FakeResolver(blobs, manifest, {}), parse("127.0.0.1:1/x/y:1"),
         platforms.parse("linux/amd64"), lambda p: None)
    assert [i.name for i in sn.walk()] == [chain_id([sha(tars[0])])]
    assert [n for n in os.listdir(sn.root) if not n.startswith("metadata.db")] == ["1"]
