"""Push: layers and config (skipped when present, mounted when the registry holds them elsewhere), then the manifest.

Blobs go up concurrently (``MAX_UPLOADS``, Docker's ``max-concurrent-uploads``);
the manifest is pushed byte for byte as stored, so its digest -- the one
printed, and the image's RepoDigest -- is the same here and there.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from dockyard.core.content import ContentReader
from dockyard.core.progress import Progress, ProgressSink, short_id
from dockyard.core.reference import Reference
from dockyard.core.remotes import Pusher, Resolver
from dockyard.errors import EngineError, InvalidArgument, NotFound
from dockyard.oci import image as oci

MAX_UPLOADS = 5
PROGRESS_INTERVAL = 0.1


@dataclass(frozen=True, slots=True)
class Pushed:
    tag: str
    digest: str
    size: int


def push(content: ContentReader, resolver: Resolver, ref: Reference, manifest: oci.Descriptor,
         sink: ProgressSink, mount_sources: Callable[[str], list[str]] = lambda _d: []) -> Pushed:
    """Push the image whose manifest is ``manifest`` to ``ref`` (tagged ``ref.tag``).

    ``mount_sources(digest)`` names other repositories of the same registry
    known to hold the blob (from earlier pulls); they are tried as mount sources.
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
    with ThreadPoolExecutor(max_workers=MAX_UPLOADS, thread_name_prefix="push") as pool:
        futures = [pool.submit(_push_blob, content, pusher, d, sink, mount_sources, True) for d in unique]
        for fut in futures:
            fut.result()
    _push_blob(content, pusher, config, sink, mount_sources, False)
    pusher.push_manifest(manifest, data, ref.tag)
    return Pushed(ref.tag, manifest.digest, len(data))


def _push_blob(content: ContentReader, pusher: Pusher, desc: oci.Descriptor, sink: ProgressSink,
               mount_sources: Callable[[str], list[str]], report: bool) -> None:
    sid = short_id(desc.digest)
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
