"""Compress-on-push: uncompressed layers become gzip blobs, remembered by DiffID.

Images built, committed or loaded here store their layers as plain tar (blob
digest = DiffID), as Docker does.  Registries and their clients expect gzip,
and sending tar wastes the wire, so a push gzips each such layer (ISA-L via
``compression.compress``) into a content-store blob, hashing it in the same
pass, and rewrites the manifest's layer descriptors; the config -- hence the
image id -- is unchanged.  The DiffID -> gzip descriptor mapping is kept in
a ``LayerBlobs`` store (the state DB's ``layer_blobs`` table), so a second
push, or a push to another repository, reuses the blob instead of
compressing again (Docker keeps the same mapping in its v2 metadata service).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO, Protocol

from dockyard.core.content import ContentStore
from dockyard.core.digest import of_bytes
from dockyard.image.compression import GZIP, compress
from dockyard.oci import image as oci

#: Uncompressed layer media type -> its gzip counterpart (same family: Docker or OCI).
GZIP_TYPES: Mapping[str, str] = {
    oci.DOCKER_LAYER: oci.DOCKER_LAYER_GZIP,
    oci.OCI_LAYER: oci.OCI_LAYER_GZIP,
}
READ_CHUNK = 1 << 20


class LayerBlobs(Protocol):
    """DiffID -> compressed blob descriptor, one per media type (persistent in the daemon)."""

    def get(self, diff_id: str, media_type: str) -> oci.Descriptor | None: ...

    def put(self, diff_id: str, desc: oci.Descriptor) -> None: ...


class MemoryLayerBlobs:
    """``LayerBlobs`` in a dict: for tests and for a service without a state DB."""

    def __init__(self) -> None:
        self._map: dict[tuple[str, str], oci.Descriptor] = {}
        self._lock = threading.Lock()

    def get(self, diff_id: str, media_type: str) -> oci.Descriptor | None:
        with self._lock:
            return self._map.get((diff_id, media_type))

    def put(self, diff_id: str, desc: oci.Descriptor) -> None:
        with self._lock:
            self._map[(diff_id, desc.media_type)] = desc


def needs_compression(layer: oci.Descriptor) -> bool:
    return layer.media_type in GZIP_TYPES


def _chunks(f: BinaryIO) -> Iterator[bytes]:
    while chunk := f.read(READ_CHUNK):
        yield chunk


def compress_layer(content: ContentStore, layer: oci.Descriptor) -> tuple[oci.Descriptor, bool]:
    """Gzip the stored uncompressed ``layer`` into a blob: its descriptor, and whether the blob is new.

    Digest and size are computed by the content writer while the bytes go
    to disk: one read of the tar, one write of the gzip, no second pass.
    """
    media = GZIP_TYPES[layer.media_type]
    # A unique ingest ref: two pushes of one image may compress the same layer at once.
    with content.open(layer.digest) as src, content.writer(f"compress-{layer.digest}-{uuid.uuid4().hex}") as w:
        size = 0
        for out in compress(_chunks(src), GZIP):
            if out:
                w.write(out)
                size += len(out)
        dgst = w.digest()
        new = not content.exists(dgst)  # else an identical blob is someone else's: never ours to discard
        info = w.commit(size, dgst)
    return oci.Descriptor(media, str(info.digest), info.size, dict(layer.annotations)), new


def rewrite_manifest(doc: Mapping[str, Any], replaced: Mapping[str, oci.Descriptor]) -> bytes:
    """The manifest with each layer whose digest is in ``replaced`` swapped for its new descriptor.

    Everything else (config, annotations, unknown fields, key order) stays;
    the layout is the one ``archive`` writes for local images (indent 3).
    """
    out = dict(doc)
    layers = []
    for layer in doc.get("layers") or []:
        new = replaced.get(str(layer.get("digest"))) if isinstance(layer, dict) else None
        if new is None:
            layers.append(layer)
            continue
        layers.append({**layer, "mediaType": new.media_type, "digest": new.digest, "size": new.size})
    out["layers"] = layers
    return json.dumps(out, indent=3).encode()


def store_manifest(content: ContentStore, data: bytes, media_type: str) -> oci.Descriptor:
    """Put manifest bytes in the content store (idempotent); their descriptor."""
    dgst = of_bytes(data)
    if not content.exists(dgst):
        with content.writer(f"manifest-{dgst}-{uuid.uuid4().hex}") as w:
            w.write(data)
            w.commit(len(data), dgst)
    return oci.Descriptor(media_type, str(dgst), len(data))


__all__ = ["GZIP_TYPES", "LayerBlobs", "MemoryLayerBlobs", "compress_layer", "needs_compression",
           "rewrite_manifest", "store_manifest"]
