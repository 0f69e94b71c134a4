"""A failed layer download cancels the others at once (fakes; no network, no root)."""

from __future__ import annotations

import io
import json
import threading
import time

import pytest

from dockyard.core.digest import of_bytes
from dockyard.core.progress import discard
from dockyard.core.reference import parse
from dockyard.errors import DigestMismatch
from dockyard.image import platforms
from dockyard.image.pull import pull
from dockyard.oci import image as oci
from dockyard.store.content.local import LocalContentStore
from dockyard.store.snapshots.overlay import OverlaySnapshotter

BIG = 64 << 20  # declared size of the slow layer; it would take minutes at the fake's pace


class SlowBody(io.RawIOBase):
    def __init__(self) -> None:
        self.reads = 0
        self.closed_early = threading.Event()

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        self.reads += 1
        time.sleep(0.002)
        return b"\0" * 4096

    def close(self) -> None:
        self.closed_early.set()
        super().close()


class FakeResolver:
    def __init__(self, blobs: dict[str, bytes], manifest: bytes, slow: str, slow_body: SlowBody) -> None:
        self.blobs, self.manifest, self.slow, self.slow_body = blobs, manifest, slow, slow_body

    def resolve(self, ref):
        return oci.Descriptor(oci.OCI_MANIFEST, of_bytes(self.manifest), len(self.manifest))

    def fetcher(self, ref):
        return self

    def fetch(self, desc):
        if desc.digest == self.slow:
            return self.slow_body
        if desc.digest == of_bytes(self.manifest):
            return io.BytesIO(self.manifest)
        return io.BytesIO(self.blobs[desc.digest])


def test_a_failed_download_cancels_the_running_ones(tmp_path) -> None:
    bad = b"\x1f\x8b" + b"x" * 1000
    bad_digest = "sha256:" + "ab" * 32  # what the manifest claims; the bytes differ
    slow_digest = "sha256:" + "cd" * 32
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [slow_digest, bad_digest]}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": oci.OCI_MANIFEST,
                           "config": {"mediaType": oci.OCI_CONFIG, "digest": of_bytes(config), "size": len(config)},
                           "layers": [{"mediaType": oci.OCI_LAYER_GZIP, "digest": slow_digest, "size": BIG},
                                      {"mediaType": oci.OCI_LAYER_GZIP, "digest": bad_digest, "size": len(bad)}]
                           }).encode()
    body = SlowBody()
    content = LocalContentStore(tmp_path)
    sn = OverlaySnapshotter(tmp_path)
    resolver = FakeResolver({of_bytes(config): config, bad_digest: bad}, manifest, slow_digest, body)
    start = time.monotonic()
    try:
        with pytest.raises(DigestMismatch, match=f"filesystem layer verification failed for digest {bad_digest}"):
            pull(content, sn, resolver, parse("127.0.0.1:1/x/y:1"), platforms.parse("linux/amd64"), discard)
    finally:
        sn.close()
    assert time.monotonic() - start < 10
    assert body.reads * 4096 < BIG // 4 and body.closed_early.is_set()
    assert not (tmp_path / "content" / "ingest").exists() or not list((tmp_path / "content" / "ingest").iterdir())
    assert not (tmp_path / "content" / "blobs" / "sha256" / of_bytes(config)[7:]).exists()
