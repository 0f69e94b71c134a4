"""Push: layers and config (skipped when present, mounted when the registry holds them elsewhere), then the manifest.

Blobs go up concurrently (``MAX_UPLOADS``, Docker's ``max-concurrent-uploads``).
Uncompressed layers (images built, committed or loaded here) are gzipped
first (``layer_compress``; at most one compression per core, each overlapping
other layers' uploads), reusing the gzip blob an earlier push made of the
same DiffID; the manifest is then rewritten with the gzip descriptors and
stored.  An image whose layers are all compressed (a pulled one) has its
manifest pushed byte for byte as stored, so its digest -- the one printed,
and the image's RepoDigest -- is the same here and there.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from dockyard.core.content import ContentReader, ContentStore
from dockyard.core.digest import of_bytes
from dockyard.core.progress import Progress, ProgressSink, short_id
from dockyard.core.reference import Reference
from dockyard.core.remotes import Pusher, Resolver
from dockyard.errors import EngineError, InvalidArgument, NotFound
from dockyard.image.layer_compress import (GZIP_TYPES, LayerBlobs, MemoryLayerBlobs, compress_layer, needs_compression,
                                           rewrite_manifest, store_manifest)
from dockyard.oci import image as oci

MAX_UPLOADS = 5
PROGRESS_INTERVAL = 0.1


@dataclass(frozen=True, slots=True)
class Pushed:
    tag: str
    digest: str
    size: int
    manifest: oci.Descriptor | None = None  # what was pushed (a rewritten manifest when layers were gzipped)


def push(content: ContentStore, resolver: Resolver, ref: Reference, manifest: oci.Descriptor,
         sink: ProgressSink, mount_sources: Callable[[str], list[str]] = lambda _d: [],
         layer_blobs: LayerBlobs | None = None) -> Pushed:
    """Push the image whose manifest is ``manifest`` to ``ref`` (tagged ``ref.tag``).

    ``mount_sources(digest)`` names other repositories of the same registry
    known to hold the blob (from earlier pulls); they are tried as mount sources.
    ``layer_blobs`` remembers DiffID -> gzip blob across pushes.
    """
    try:
        with content.open(manifest.digest) as f:
            data = f.read()
    except NotFound:
        raise NotFound(f"the manifest of {ref.familiar()} is missing from the content store") from None
    doc = json.loads(data)
    if not isinstance(doc, dict):
        raise InvalidArgument(f"invalid manifest {manifest.digest}")
    config = oci.Descriptor.from_json(doc.get("config"))
    layers = [oci.Descriptor.from_json(x) for x in doc.get("layers") or []]
    for d in [config, *layers]:
        if not content.exists(d.digest):
            raise NotFound(f"blob {d.digest} of {ref.familiar()} is missing from the content store")
    pusher = resolver.pusher(ref)
    for layer in layers:
        sink(Progress("Preparing", id=short_id(layer.digest)))
    for layer in layers[MAX_UPLOADS:]:
        sink(Progress("Waiting", id=short_id(layer.digest)))
    seen: set[str] = set()
    unique = [d for d in layers if not (d.digest in seen or seen.add(d.digest))]  # type: ignore[func-returns-value]
    gz = _Gzipper(content, layer_blobs if layer_blobs is not None else MemoryLayerBlobs())

    def one(d: oci.Descriptor) -> None:
        # The progress id stays the stored layer's (its DiffID when uncompressed), as Docker shows.
        up = gz.blob_for(d) if needs_compression(d) else d
        _push_blob(content, pusher, up, sink, mount_sources, True, short_id(d.digest))

    try:
        with ThreadPoolExecutor(max_workers=MAX_UPLOADS, thread_name_prefix="push") as pool:
            futures = [pool.submit(one, d) for d in unique]
            for fut in futures:
                fut.result()
        _push_blob(content, pusher, config, sink, mount_sources, False, short_id(config.digest))
        if gz.replaced:
            data = rewrite_manifest(doc, gz.replaced)
            existed = content.exists(of_bytes(data))
            manifest = store_manifest(content, data, manifest.media_type)
            if not existed:
                gz.created.append(manifest.digest)
        pusher.push_manifest(manifest, data, ref.tag)
    except BaseException:
        gz.discard()  # what this push compressed is referenced by nothing yet
        raise
    return Pushed(ref.tag, manifest.digest, len(data), manifest)


class _Gzipper:
    """The gzip blob of each uncompressed layer: remembered, or made now (one per core at a time)."""

    def __init__(self, content: ContentStore, blobs: LayerBlobs) -> None:
        self._content, self._blobs = content, blobs
        self._slots = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))
        self._lock = threading.Lock()
        self.replaced: dict[str, oci.Descriptor] = {}  # uncompressed digest (DiffID) -> gzip descriptor
        self.created: list[str] = []  # blobs this push added to the content store

    def blob_for(self, layer: oci.Descriptor) -> oci.Descriptor:
        known = self._blobs.get(layer.digest, GZIP_TYPES[layer.media_type])
        if known is not None and self._content.exists(known.digest):
            desc = oci.Descriptor(known.media_type, known.digest, known.size, dict(layer.annotations))
        else:
            with self._slots:
                desc, new = compress_layer(self._content, layer)
            if new:
                with self._lock:
                    self.created.append(desc.digest)
            self._blobs.put(layer.digest, desc)
        with self._lock:
            self.replaced[layer.digest] = desc
        return desc

    def discard(self) -> None:
        for d in self.created:
            try:
                self._content.delete(d)
            except EngineError:
                pass


def _push_blob(content: ContentReader, pusher: Pusher, desc: oci.Descriptor, sink: ProgressSink,
               mount_sources: Callable[[str], list[str]], report: bool, sid: str) -> None:
    say: ProgressSink = sink if report else (lambda _p: None)
    if pusher.exists(desc):
        say(Progress("Layer already exists", id=sid))
        return
    for repo in mount_sources(desc.digest):
        try:
            if pusher.mount(desc, repo):
                say(Progress(f"Mounted from {repo}", id=sid))
                return
        except EngineError:
            continue  # not allowed to read there: upload instead
        break  # the declined mount opened an upload session; use it
    last = [0.0]
    lock = threading.Lock()

    def on_progress(done: int) -> None:
        now = time.monotonic()
        with lock:
            if now - last[0] < PROGRESS_INTERVAL and done < desc.size:
                return
            last[0] = now
        say(Progress("Pushing", id=sid, current=done, total=desc.size))

    pusher.push_blob(desc, lambda: content.open(desc.digest), on_progress)
    say(Progress("Pushed", id=sid))


__all__ = ["MAX_UPLOADS", "Pushed", "push"]
