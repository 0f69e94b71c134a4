"""Pull: resolve -> (index -> platform manifest) -> config -> layers, into content and snapshots.

Theory of operation
-------------------
1. The reference resolves to a descriptor.  Manifests and the config are
   small: each is fetched whole, checked against its digest, stored.  An
   index (or Docker manifest list) picks the manifest for the platform.
2. Layers download concurrently (``MAX_DOWNLOADS`` at once, as Docker's
   ``max-concurrent-downloads``) into content-store ingests; the writer's
   commit verifies size and digest, so nothing unverified is ever published.
   Blobs already stored, and layers whose snapshot exists, are skipped.
3. Each layer is unpacked (``MAX_EXTRACTS`` at once) as soon as its blob is
   verified, so extracting layer N overlaps downloading layer N+1 and
   extracting its neighbours: straight into its own snapshot when its parent
   is committed already, else into a parentless scratch snapshot that the
   main thread moves under the parent and commits, bottom-up.
4. Only when every layer is unpacked is the image named (``record``).  On
   any failure the blobs and snapshots this pull created are removed again.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from dockyard.core.content import ContentStore
from dockyard.core.digest import chain_id, of_bytes
from dockyard.core.progress import Progress, ProgressSink, short_id
from dockyard.core.reference import Reference
from dockyard.core.remotes import Fetcher, Resolver
from dockyard.core.snapshots import Snapshotter
from dockyard.errors import DigestMismatch, EngineError, FailedPrecondition, InvalidArgument, NotFound
from dockyard.image import platforms
from dockyard.image.unpack import commit_scratch, extract_scratch, has_snapshot, unpack_one
from dockyard.oci import image as oci

MAX_DOWNLOADS = 3
# Layers unpacked at once: inflating, hashing and writing release the GIL, so
# this scales with cores (tar header parsing does not, hence the cap).
MAX_EXTRACTS = min(4, max(2, os.cpu_count() or 2))
MANIFEST_LIMIT = 4 << 20
CONFIG_LIMIT = 8 << 20
PROGRESS_INTERVAL = 0.1  # seconds between progress messages per layer
LAYER_TYPES = frozenset({oci.OCI_LAYER, oci.OCI_LAYER_GZIP, oci.OCI_LAYER_ZSTD, oci.DOCKER_LAYER,
                         oci.DOCKER_LAYER_GZIP})
SCHEMA1_TYPES = frozenset({"application/vnd.docker.distribution.manifest.v1+json",
                           "application/vnd.docker.distribution.manifest.v1+prettyjws"})
INDEX_TYPES = frozenset({oci.OCI_INDEX, oci.DOCKER_MANIFEST_LIST})
MANIFEST_TYPES = frozenset({oci.OCI_MANIFEST, oci.DOCKER_MANIFEST})


@dataclass(frozen=True, slots=True)
class Pulled:
    image_id: str  # config digest
    manifest: oci.Descriptor  # the platform's manifest
    repo_digest: str  # what the reference resolved to (the index digest for multi-arch images)
    downloaded: bool  # False when every blob and layer was already here


class _Cancelled(Exception):
    pass


def pull(content: ContentStore, snapshotter: Snapshotter, resolver: Resolver, ref: Reference,
         want: platforms.Platform, sink: ProgressSink, *, explicit_platform: bool = False) -> Pulled:
    """Fetch and unpack ``ref``; see the module docstring.  The caller records the name."""
    created: list[str] = []
    committed: list[str] = []
    try:
        return _pull(content, snapshotter, resolver, ref, want, sink, explicit_platform, created, committed)
    except BaseException:
        for chain in reversed(committed):
            try:
                snapshotter.remove(chain)
            except EngineError:
                pass  # in use by another image meanwhile
        for d in created:
            try:
                content.delete(d)
            except NotFound:
                pass
        raise


def _pull(content: ContentStore, snapshotter: Snapshotter, resolver: Resolver, ref: Reference,
          want: platforms.Platform, sink: ProgressSink, explicit_platform: bool,
          created: list[str], committed: list[str]) -> Pulled:
    top = resolver.resolve(ref)
    fetcher = resolver.fetcher(ref)
    sink(Progress(f"Pulling from {ref.path}",
                  id=ref.tag if ref.tag and not ref.digest else ref.digest))
    if top.media_type in SCHEMA1_TYPES:
        raise FailedPrecondition(_schema1_message(ref))
    desc = top
    data = _small_blob(content, fetcher, desc, MANIFEST_LIMIT, created)
    if desc.media_type in INDEX_TYPES:
        desc = _choose(data, want, ref)
        data = _small_blob(content, fetcher, desc, MANIFEST_LIMIT, created)
    if desc.media_type in SCHEMA1_TYPES:
        raise FailedPrecondition(_schema1_message(ref))
    if desc.media_type not in MANIFEST_TYPES:
        raise FailedPrecondition(f"unsupported manifest media type {desc.media_type!r}")
    manifest = _json(data, "manifest")
    config_desc = oci.Descriptor.from_json(manifest.get("config"))
    layers = [oci.Descriptor.from_json(x) for x in manifest.get("layers") or []]
    for layer in layers:
        if layer.media_type not in LAYER_TYPES:
            raise FailedPrecondition(f"unsupported layer media type {layer.media_type!r}")
    config_existed = content.exists(config_desc.digest)
    config = oci.ImageConfig.from_json(_json(_small_blob(content, fetcher, config_desc, CONFIG_LIMIT, created),
                                             "image config"))
    if explicit_platform and desc is top:
        have = platforms.normalize(config.os, config.architecture, config.variant)
        if not platforms.matches(want, have):
            raise FailedPrecondition(f"image with reference {ref.familiar()} was found but its platform ({have}) "
                                     f"does not match the specified platform ({want})")
    if len(config.diff_ids) != len(layers):
        raise InvalidArgument(f"invalid image: manifest has {len(layers)} layers, config has "
                              f"{len(config.diff_ids)} diff ids")
    downloaded = _layers(content, snapshotter, fetcher, layers, config.diff_ids, sink, created, committed)
    return Pulled(config_desc.digest, desc, top.digest, downloaded or not config_existed)


def _layers(content: ContentStore, snapshotter: Snapshotter, fetcher: Fetcher, layers: list[oci.Descriptor],
            diff_ids: tuple[str, ...], sink: ProgressSink, created: list[str], committed: list[str]) -> bool:
    chains = [chain_id(diff_ids[: i + 1]) for i in range(len(layers))]
    have = [has_snapshot(snapshotter, c) for c in chains]
    needed: list[bool] = []
    for i, layer in enumerate(layers):
        present = have[i] or content.exists(layer.digest)
        needed.append(not present)
        sink(Progress("Already exists" if present else "Pulling fs layer", id=short_id(layer.digest)))
    cancel = threading.Event()
    failed: list[BaseException] = []

    def fail_fast(fut: Future[Any]) -> None:
        # One failed download or extraction stops the others at their next
        # chunk, instead of the pull waiting for earlier layers to report it.
        exc = fut.exception() if not fut.cancelled() else None
        if exc is not None and not isinstance(exc, _Cancelled):
            failed.append(exc)
            cancel.set()

    downloads: dict[str, Future[None]] = {}  # by blob digest: a blob repeated in a manifest comes once
    extracts: dict[int, Future[str]] = {}  # layer index -> its scratch snapshot key
    consumed: set[str] = set()
    with ThreadPoolExecutor(max_workers=MAX_DOWNLOADS, thread_name_prefix="pull") as pool, \
            ThreadPoolExecutor(max_workers=MAX_EXTRACTS, thread_name_prefix="extract") as extractor:
        try:
            for i, layer in enumerate(layers):
                if needed[i] and layer.digest not in downloads:
                    if len(downloads) >= MAX_DOWNLOADS:
                        sink(Progress("Waiting", id=short_id(layer.digest)))
                    downloads[layer.digest] = pool.submit(_download, content, fetcher, layer, sink, created, cancel)
                    downloads[layer.digest].add_done_callback(fail_fast)
            # Each layer extracts into a scratch snapshot as soon as its blob is
            # verified, while later blobs still download; commits go bottom-up.
            for i, layer in enumerate(layers):
                if not have[i]:
                    extracts[i] = extractor.submit(_extract, content, snapshotter, layer, diff_ids[i],
                                                   chains[i], chains[i - 1] if i else "",
                                                   downloads.get(layer.digest), sink, cancel, committed)
                    extracts[i].add_done_callback(fail_fast)
            for i, layer in enumerate(layers):
                if i not in extracts:
                    continue
                try:
                    scratch = extracts[i].result()
                except _Cancelled:
                    raise failed[0] if failed else _Cancelled() from None
                if scratch:  # "": the worker committed the layer itself (its parent was there)
                    consumed.add(scratch)
                    if commit_scratch(snapshotter, scratch, chains[i], chains[i - 1] if i else ""):
                        committed.append(chains[i])
                sink(Progress("Pull complete", id=short_id(layer.digest)))
        except BaseException:
            cancel.set()
            pool.shutdown(wait=True, cancel_futures=True)  # queued downloads never start
            extractor.shutdown(wait=True, cancel_futures=True)
            # Workers append as they finish: a child may be listed before its parent
            # (its worker saw the parent committed before that worker appended it).
            # The caller's rollback removes children first, so restore chain order.
            committed.sort(key=chains.index)
            raise
        finally:
            for fut in extracts.values():  # scratch snapshots left uncommitted by a failure
                fut.add_done_callback(lambda f: _drop_scratch(snapshotter, f, consumed))
    return any(needed)


def _extract(content: ContentStore, snapshotter: Snapshotter, layer: oci.Descriptor, diff_id: str, chain: str,
             parent: str, download: Future[None] | None, sink: ProgressSink, cancel: threading.Event,
             committed: list[str]) -> str:
    """Wait for the layer's verified blob, then unpack it: into a scratch snapshot (its key is
    returned), or, when the parent is committed already, straight into its own snapshot ("")."""
    if download is not None:
        download.result()  # never extract a blob before its digest is verified
    if cancel.is_set():
        raise _Cancelled()
    sid = short_id(layer.digest)
    sink(Progress("Extracting", id=sid, current=0, total=layer.size))
    key = ""
    if not parent or has_snapshot(snapshotter, parent):
        # appended when done: the order across workers is restored on failure (see _layers)
        if unpack_one(content, snapshotter, layer.digest, diff_id, chain, parent):
            committed.append(chain)
    else:
        key = extract_scratch(content, snapshotter, layer.digest, diff_id)
    sink(Progress("Extracting", id=sid, current=layer.size, total=layer.size))
    return key


def _drop_scratch(snapshotter: Snapshotter, fut: Future[str], consumed: set[str]) -> None:
    if fut.cancelled() or fut.exception() is not None or not fut.result() or fut.result() in consumed:
        return
    try:
        snapshotter.remove(fut.result())
    except EngineError:
        pass


def _download(content: ContentStore, fetcher: Fetcher, desc: oci.Descriptor, sink: ProgressSink,
              created: list[str], cancel: threading.Event) -> None:
    sid = short_id(desc.digest)
    if cancel.is_set():
        raise _Cancelled()
    with content.writer(f"pull-{desc.digest}-{uuid.uuid4().hex[:8]}", desc.size, desc.digest) as w:
        done, last = 0, 0.0
        with fetcher.fetch(desc) as f:
            while done < desc.size:
                if cancel.is_set():
                    raise _Cancelled()
                chunk = f.read(min(1 << 20, desc.size - done))
                if not chunk:
                    break
                done += w.write(chunk)
                now = time.monotonic()
                if now - last >= PROGRESS_INTERVAL or done == desc.size:
                    last = now
                    sink(Progress("Downloading", id=sid, current=done, total=desc.size))
        sink(Progress("Verifying Checksum", id=sid))
        existed = content.exists(desc.digest)
        try:
            w.commit(desc.size, desc.digest)
        except DigestMismatch:
            raise DigestMismatch(f"filesystem layer verification failed for digest {desc.digest}") from None
    if not existed:
        created.append(desc.digest)
    sink(Progress("Download complete", id=sid))


def _small_blob(content: ContentStore, fetcher: Fetcher, desc: oci.Descriptor, limit: int,
                created: list[str]) -> bytes:
    """A manifest or config: from the store if present, else fetched, verified and stored."""
    if desc.size > limit:
        raise InvalidArgument(f"{desc.media_type} {desc.digest} is too large ({desc.size} bytes)")
    if content.exists(desc.digest):
        with content.open(desc.digest) as f:
            return f.read()
    with fetcher.fetch(desc) as f:
        data = f.read(desc.size + 1)
    if len(data) != desc.size or of_bytes(data) != desc.digest:
        raise DigestMismatch(f"content verification failed for {desc.digest}: got {len(data)} bytes "
                             f"digesting to {of_bytes(data)}")
    with content.writer(f"pull-{desc.digest}-{uuid.uuid4().hex[:8]}", desc.size, desc.digest) as w:
        w.write(data)
        w.commit(desc.size, desc.digest)
    created.append(desc.digest)
    return data


def _json(data: bytes, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise InvalidArgument(f"invalid {what}: {exc}") from None
    if not isinstance(doc, dict):
        raise InvalidArgument(f"invalid {what}: not a JSON object")
    return doc


def _choose(data: bytes, want: platforms.Platform, ref: Reference) -> oci.Descriptor:
    index = _json(data, "image index")
    entries = index.get("manifests")
    if not isinstance(entries, list):
        raise InvalidArgument("invalid image index: manifests must be a list")
    fallback = None
    for raw in entries:
        desc = oci.Descriptor.from_json(raw)
        have = platforms.of_json(raw.get("platform"))
        if have is None or desc.media_type not in MANIFEST_TYPES | SCHEMA1_TYPES:
            continue
        if platforms.matches(want, have):
            if have.variant == want.variant:
                return desc
            fallback = fallback or desc
    if fallback is not None:
        return fallback
    raise NotFound(f"no matching manifest for {want} in the manifest list entries")


def _schema1_message(ref: Reference) -> str:
    return ("[DEPRECATION NOTICE] Docker Image Format v1 and Docker Image manifest version 2, schema 1 support "
            "is disabled by default and will be removed in an upcoming release. Suggest the author of "
            f"{ref} to upgrade the image to the OCI Format or Docker Image manifest v2, schema 2. "
            "More information at https://docs.docker.com/go/deprecated-image-specs/")


__all__ = ["MAX_DOWNLOADS", "Pulled", "pull"]
