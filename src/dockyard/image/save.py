"""``docker save``: images -> one tar that is both a docker-archive and an OCI image layout.

The layout is the one Docker 25+ writes: ``blobs/sha256/<hex>`` for configs,
layers and manifests, an ``index.json`` + ``oci-layout`` (OCI image-spec
image-layout.md) and, for ``docker load`` of any version, ``manifest.json``
+ ``repositories``.  ``fmt="oci"`` leaves the two Docker files out.

The manifest written is an OCI one generated from the config and the layer
blobs as stored (media types from their compression), serialised
canonically; together with sorted entries, mtime 0 and uid/gid 0 this makes
save -> load -> save byte-identical.  Index entries carry the annotations
``io.containerd.image.name`` (full name) and
``org.opencontainers.image.ref.name`` (the tag), as Docker's do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from dockyard.core import reference
from dockyard.core.content import ContentReader
from dockyard.core.digest import Digest, of_bytes
from dockyard.image import tarwriter as tw
from dockyard.image.compression import GZIP, ZSTD, compression_of
from dockyard.oci import image as oci

OCI_LAYOUT = b'{"imageLayoutVersion":"1.0.0"}'
_LAYER_TYPES = {GZIP: oci.OCI_LAYER_GZIP, ZSTD: oci.OCI_LAYER_ZSTD}


@dataclass(frozen=True, slots=True)
class SaveItem:
    config: Digest  # the image id
    layers: tuple[Digest, ...]  # layer blobs, bottom first
    names: tuple[str, ...]  # normalised references to record ("docker.io/library/busybox:latest"); may be empty


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def oci_manifest(content: ContentReader, config: Digest, layers: Sequence[Digest]) -> bytes:
    """A canonical OCI manifest for ``config`` + ``layers`` (the same inputs give the same bytes)."""
    descs = []
    for d in layers:
        with content.open(d) as f:
            kind = compression_of(f.read(4))
        descs.append(oci.Descriptor(_LAYER_TYPES.get(kind, oci.OCI_LAYER), d, content.info(d).size).to_json())
    return canonical({
        "schemaVersion": 2,
        "mediaType": oci.OCI_MANIFEST,
        "config": oci.Descriptor(oci.OCI_CONFIG, config, content.info(config).size).to_json(),
        "layers": descs,
    })


def archive_chunks(content: ContentReader, items: Sequence[SaveItem], fmt: str = "docker") -> Iterator[bytes]:
    """The archive as tar chunks; blobs are streamed from ``content``."""
    manifests: list[tuple[SaveItem, bytes]] = [(it, oci_manifest(content, it.config, it.layers)) for it in items]
    small: dict[Digest, bytes] = {of_bytes(m): m for _, m in manifests}
    blobs: set[Digest] = set(small)
    for it in items:
        blobs.add(it.config)
        blobs.update(it.layers)

    yield tw.header(tw.Entry("blobs", tw.DIR, 0o755))
    yield tw.header(tw.Entry("blobs/sha256", tw.DIR, 0o755))
    for d in sorted(blobs):
        name = "blobs/sha256/" + d.hex
        if d in small:
            yield from tw.blob_member(name, small[d])
            continue
        size = content.info(d).size
        yield tw.header(tw.Entry(name, tw.REG, 0o644, size=size))
        with content.open(d) as f:
            yield from tw.file_body(f, size, f"blob {d}")

    index: list[dict[str, Any]] = []
    docker: list[dict[str, Any]] = []
    repos: dict[str, dict[str, str]] = {}
    for it, m in manifests:
        desc = oci.Descriptor(oci.OCI_MANIFEST, of_bytes(m), len(m))
        tags = []
        for name in it.names:
            r = reference.parse(name)
            annotations = {"io.containerd.image.name": str(r)}
            if r.tag:
                annotations["org.opencontainers.image.ref.name"] = r.tag
                tags.append(r.familiar())
                if it.layers:
                    repos.setdefault(r.familiar_name(), {})[r.tag] = it.layers[-1].hex
            index.append(oci.Descriptor(desc.media_type, desc.digest, desc.size, annotations).to_json())
        if not it.names:
            index.append(desc.to_json())
        docker.append({"Config": "blobs/sha256/" + it.config.hex, "RepoTags": tags or None,
                       "Layers": ["blobs/sha256/" + d.hex for d in it.layers]})
    yield from tw.blob_member("index.json", canonical(
        {"schemaVersion": 2, "mediaType": oci.OCI_INDEX, "manifests": index}))
    if fmt == "docker":
        yield from tw.blob_member("manifest.json", canonical(docker))
    yield from tw.blob_member("oci-layout", OCI_LAYOUT)
    if fmt == "docker" and repos:
        yield from tw.blob_member("repositories", canonical(repos))
    yield tw.END
