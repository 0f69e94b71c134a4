"""``docker load``: read a ``docker save`` tarball (or an OCI image layout) from a stream.

Theory of operation
-------------------
A stream can be read once, and ``manifest.json`` may come last, so pass 1
stores every regular file of the archive in the content store as it goes
(computing its digest) and keeps only the small JSON index files in memory.
Pass 2 reads the manifests, verifies configs and layers, unpacks layers into
snapshots (skipping those already present), stores a generated Docker v2
schema 2 manifest, and only then records the image names.  On error, the
blobs and snapshots this load created are removed and no name is recorded,
so there is never a half-written image.
"""

from __future__ import annotations

import json
import posixpath
import tarfile
import uuid
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO, Callable

from dockyard.core import reference
from dockyard.core.content import ContentStore
from dockyard.core.digest import Digest, is_digest, of_bytes
from dockyard.core.snapshots import Snapshotter
from dockyard.errors import DigestMismatch, EngineError, InvalidArgument, NotFound
from dockyard.image.layers import clean_name, compression_of
from dockyard.image.unpack import unpack
from dockyard.oci import image as oci

_INDEX_FILES = ("manifest.json", "index.json", "repositories", "oci-layout")
_MAX_JSON = 16 << 20
_MAX_ENTRIES = 100_000
_MAX_LINK_HOPS = 16


@dataclass(frozen=True, slots=True)
class LoadedImage:
    id: str  # config digest
    names: tuple[str, ...]  # normalised references
    manifest: oci.Descriptor
    chain_id: str


@dataclass(slots=True)
class _Archive:
    blobs: dict[str, tuple[Digest, int]] = field(default_factory=dict)  # archive path -> stored blob
    links: dict[str, str] = field(default_factory=dict)  # archive path -> target path
    json: dict[str, bytes] = field(default_factory=dict)

    def blob(self, path: str) -> tuple[Digest, int]:
        p = _clean(path)
        for _ in range(_MAX_LINK_HOPS):
            if p in self.blobs:
                return self.blobs[p]
            if p not in self.links:
                break
            p = self.links[p]
        raise InvalidArgument(f"invalid archive: {path!r} not found in the archive")


_Found = list[tuple[list[str], Digest, list[Digest]]]  # [(repo tags, config digest, layer digests)]


def read_images(stream: BinaryIO, content: ContentStore, created: list[Digest]) -> _Found:
    """Pass 1 + manifest parsing: ``[(repo tags, config digest, layer digests)]``.

    Digests of blobs newly added to ``content`` are appended to ``created``.
    """
    ar = _read(stream, content, created)
    if "manifest.json" in ar.json:
        found = _docker_manifest(ar)
    elif "index.json" in ar.json:
        found = _oci_index(ar, content)
    else:
        raise InvalidArgument("invalid archive: neither manifest.json nor index.json found")
    # Pass 1 had to store every file; keep only configs and layers, or the
    # rest (legacy v1 json, VERSION, OCI manifests) would outlive the image.
    keep = {d for _, config, layers in found for d in (config, *layers)}
    for d in [d for d in created if d not in keep]:
        created.remove(d)
        try:
            content.delete(d)
        except NotFound:
            pass
    return found


def _read(stream: BinaryIO, content: ContentStore, created: list[Digest]) -> _Archive:
    ar = _Archive()
    try:
        tf = tarfile.open(fileobj=stream, mode="r|*")  # type: ignore[call-overload]
        for count, m in enumerate(tf):
            if count >= _MAX_ENTRIES:
                raise InvalidArgument(f"invalid archive: more than {_MAX_ENTRIES} entries")
            path = _clean(m.name)
            if m.isdir():
                continue
            if m.issym() or m.islnk():
                target = m.linkname if m.islnk() else posixpath.join(posixpath.dirname(path), m.linkname)
                ar.links[path] = _clean(target, entry=m.name)
                continue
            if not m.isreg():
                raise InvalidArgument(f"invalid archive entry {m.name!r}: unsupported type")
            f = tf.extractfile(m)
            assert f is not None
            if path in _INDEX_FILES:
                if m.size > _MAX_JSON:
                    raise InvalidArgument(f"invalid archive entry {m.name!r}: too large")
                ar.json[path] = f.read()
                continue
            ar.blobs[path] = _store(f, content, created, path)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise InvalidArgument(f"invalid archive: {exc}") from exc
    return ar


def _store(f: IO[bytes], content: ContentStore, created: list[Digest], path: str) -> tuple[Digest, int]:
    with content.writer(f"load-{uuid.uuid4().hex}") as w:
        size = 0
        while chunk := f.read(1 << 20):
            size += w.write(chunk)
        dgst = w.digest()
        parts = path.split("/")
        named = parts[2] if len(parts) == 3 and parts[:2] == ["blobs", "sha256"] else ""
        if len(parts) == 1 and parts[0].endswith(".json") and len(parts[0]) == 69:
            named = parts[0][:64]  # legacy "<config hex>.json"
        if named and f"sha256:{named}" != dgst:
            raise DigestMismatch(f"invalid archive entry {path!r}: content digest is {dgst}")
        existed = content.exists(dgst)
        w.commit(size, dgst)
    if not existed:
        created.append(dgst)
    return dgst, size


def _clean(name: str, entry: str | None = None) -> str:
    try:
        return "/".join(clean_name(name))
    except InvalidArgument:
        raise InvalidArgument(f"invalid archive entry {entry or name!r}: path escapes the archive") from None


def _read_blob(content: ContentStore, d: Digest) -> bytes:
    if content.info(d).size > _MAX_JSON:
        raise InvalidArgument(f"invalid archive: {d} is too large for a JSON document")
    with content.open(d) as f:
        return f.read()


def _json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except ValueError as exc:
        raise InvalidArgument(f"invalid archive: {what} is not valid JSON: {exc}") from None


def _docker_manifest(ar: _Archive) -> _Found:
    doc = _json(ar.json["manifest.json"], "manifest.json")
    if not isinstance(doc, list):
        raise InvalidArgument("invalid archive: manifest.json must be a list")
    out = []
    for item in doc:
        if not isinstance(item, dict) or not isinstance(item.get("Config"), str):
            raise InvalidArgument("invalid archive: manifest.json entry without Config")
        tags = item.get("RepoTags") or []
        layers = item.get("Layers") or []
        if not all(isinstance(t, str) for t in tags) or not all(isinstance(p, str) for p in layers):
            raise InvalidArgument("invalid archive: RepoTags and Layers must be lists of strings")
        config, _ = ar.blob(item["Config"])
        out.append((list(tags), config, [ar.blob(p)[0] for p in layers]))
    return out


def _oci_index(ar: _Archive, content: ContentStore) -> _Found:
    doc = _json(ar.json["index.json"], "index.json")
    if not isinstance(doc, dict) or not isinstance(doc.get("manifests"), list):
        raise InvalidArgument("invalid archive: index.json has no manifests")
    out = []
    for raw in doc["manifests"]:
        desc = oci.Descriptor.from_json(raw)
        if desc.media_type not in (oci.OCI_MANIFEST, oci.DOCKER_MANIFEST) or not is_digest(desc.digest):
            continue  # nested indexes (multi-platform) are not loaded from archives yet
        mdig, _ = ar.blob("blobs/sha256/" + desc.digest[len("sha256:"):])
        manifest = _json(_read_blob(content, mdig), f"manifest {mdig}")
        if not isinstance(manifest, dict):
            raise InvalidArgument(f"invalid archive: manifest {mdig} must be an object")
        config = oci.Descriptor.from_json(manifest.get("config"))
        layers = [oci.Descriptor.from_json(layer) for layer in manifest.get("layers") or []]
        for d in [config, *layers]:
            ar.blob("blobs/sha256/" + d.digest.removeprefix("sha256:"))  # must be in the archive
        name = desc.annotations.get("io.containerd.image.name") or desc.annotations.get(
            "org.opencontainers.image.ref.name", "")
        tags = [name] if name and ("/" in name or ":" in name) else []
        out.append((tags, Digest(config.digest), [Digest(d.digest) for d in layers]))
    if not out:
        raise InvalidArgument("invalid archive: index.json lists no image manifest")
    return out


def load(stream: BinaryIO, content: ContentStore, snapshotter: Snapshotter,
         record: Callable[[list[LoadedImage]], None]) -> list[LoadedImage]:
    """Load every image of the archive; ``record`` writes the names (called last, once)."""
    created: list[Digest] = []
    committed: list[str] = []
    try:
        loaded = []
        for tags, config_digest, layers in read_images(stream, content, created):
            names = tuple(dict.fromkeys(reference.normalize(t) for t in tags))
            config = oci.ImageConfig.from_json(_json(_read_blob(content, config_digest), "image config"))
            chain = unpack(content, snapshotter, config.diff_ids, layers, on_commit=committed.append)
            manifest = _manifest(content, config_digest, layers, created)
            loaded.append(LoadedImage(config_digest, names, manifest, chain))
        record(loaded)
        return loaded
    except BaseException as exc:
        for chain in reversed(committed):
            try:
                snapshotter.remove(chain)
            except EngineError:
                pass  # now shared with another image, or already gone
        for d in created:
            try:
                content.delete(d)
            except NotFound:
                pass
        if isinstance(exc, EngineError):
            raise
        if isinstance(exc, (KeyError, TypeError, ValueError)):
            raise InvalidArgument(f"invalid archive: {exc}") from exc
        raise


def _manifest(content: ContentStore, config_digest: Digest, layers: list[Digest],
              created: list[Digest]) -> oci.Descriptor:
    """Store a Docker v2 schema 2 manifest for the image and return its descriptor."""
    layer_descs = []
    for d in layers:
        with content.open(d) as f:
            kind = compression_of(f.read(4))
        media = {"gzip": oci.DOCKER_LAYER_GZIP, "zstd": oci.OCI_LAYER_ZSTD}.get(kind, oci.DOCKER_LAYER)
        layer_descs.append(oci.Descriptor(media, d, content.info(d).size).to_json())
    body = {
        "schemaVersion": 2,
        "mediaType": oci.DOCKER_MANIFEST,
        "config": oci.Descriptor(oci.DOCKER_CONFIG, config_digest, content.info(config_digest).size).to_json(),
        "layers": layer_descs,
    }
    data = json.dumps(body, indent=3).encode()
    dgst = of_bytes(data)
    if not content.exists(dgst):
        with content.writer(f"manifest-{dgst}") as w:
            w.write(data)
            w.commit(len(data), dgst)
        created.append(dgst)
    return oci.Descriptor(oci.DOCKER_MANIFEST, dgst, len(data))
