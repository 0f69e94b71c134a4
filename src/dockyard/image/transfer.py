"""Images as files: save, import, history, and new images from a layer (commit).

``ImageTransfer`` is composed from the ``ImageService`` (names, configs,
content store, snapshotter); the formats live in ``save.py``, ``diff.py``,
``layers.py`` and ``changes.py``.

New layers (import, commit) are stored uncompressed, as Docker stores them:
the blob digest is then the DiffID, nothing is spent compressing on the way
in, and ``docker save`` output stays uncompressed like Docker's.  Every new
image is created in the order blobs -> snapshot -> config -> manifest ->
names, and rolled back in reverse on failure, so a name never points at a
half-made image.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, BinaryIO, Iterable, Iterator, Sequence

from dockyard.core import reference
from dockyard.core.digest import Digest, of_bytes
from dockyard.core.events import IMAGE, Event
from dockyard.core.images import is_dangling
from dockyard.errors import EngineError, ImageNotFound, InvalidArgument, NotFound
from dockyard.image import archive, platforms, save
from dockyard.image.changes import apply_changes
from dockyard.image.compression import decompress
from dockyard.image.service import ImageService, ResolvedImage
from dockyard.image.unpack import unpack
from dockyard.wire.models import images as wire

EMPTY_LAYER = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"  # 1024 zero bytes


@dataclass(frozen=True, slots=True)
class NewImage:
    """What ``create`` needs beyond the layer: the config as JSON and where to add it."""

    config: dict[str, Any]  # full image config without the new diff id; "history" gets the entry
    history: dict[str, Any]  # the history entry of the new layer ("empty_layer" set here)
    names: tuple[str, ...] = ()  # normalised references
    parent: str = ""  # image id whose layers come below the new one (commit)


class ImageTransfer:
    def __init__(self, images: ImageService) -> None:
        self.images = images
        self.content = images.content

    # -- save ---------------------------------------------------------------------------
    def save(self, names: Sequence[str], fmt: str = "docker") -> Iterator[bytes]:
        """Tar chunks of the images; every name is resolved before the first byte (404 first)."""
        if fmt not in ("docker", "oci"):
            raise InvalidArgument(f"unknown archive format {fmt!r}: use docker or oci")
        if not names:
            raise InvalidArgument("no images to save")
        items: dict[str, list[str]] = {}
        for ref in names:
            img_id, found = self._select(ref)
            tags = items.setdefault(img_id, [])
            tags.extend(n for n in found if n not in tags)
        entries = [save.SaveItem(Digest(i), self.layers_of(i), tuple(t)) for i, t in items.items()]
        for img_id, tags in items.items():
            self.images.events.publish(Event(IMAGE, "save", img_id, {"name": tags[0] if tags else img_id}))
        return save.archive_chunks(self.content, entries, fmt)

    def _select(self, ref: str) -> tuple[str, list[str]]:
        """Docker's rules: an id saves without names, ``repo`` every tag of it, ``repo:tag`` that tag."""
        try:
            img = self.images.resolve(ref)
        except ImageNotFound:
            img = None
        if img is not None and not img.name:
            return img.id, []
        r = reference.parse(ref, default_tag=False)
        if r.tag or r.digest:
            if img is None:
                raise ImageNotFound(f"No such image: {r.familiar()}")
            return img.id, [img.name] if "@" not in img.name else []
        every = sorted(rec.name for rec in self.images.images.list()
                       if not is_dangling(rec.name) and "@" not in rec.name and reference.parse(rec.name).name == r.name)
        ids = {self.images.resolve(n).id for n in every}
        if not ids:
            raise ImageNotFound(f"No such image: {r.familiar()}")
        if len(ids) > 1:
            raise InvalidArgument(f"{ref}: tags of different images; save them one tag at a time")
        return ids.pop(), every

    def layers_of(self, image_id: str) -> tuple[Digest, ...]:
        """The layer blobs of an image, from its stored manifest."""
        recs = self.images.images.by_id(image_id)
        if not recs:
            raise ImageNotFound(f"No such image: {image_id}")
        with self.content.open(recs[0].target.digest) as f:
            doc = json.loads(f.read())
        return tuple(Digest(layer["digest"]) for layer in doc.get("layers") or [])

    # -- history ----------------------------------------------------------------------------
    def history(self, ref: str) -> list[dict[str, Any]]:
        """``GET /images/{name}/history``: newest first; entries that are the top of a local image show its id."""
        img = self.images.resolve(ref)
        hist = list(img.config.history) or [{"created": img.config.created}]
        tops = self._tops()
        out, layer = [], 0
        for i, h in enumerate(hist):
            size = 0
            if not h.get("empty_layer") and layer < len(img.config.diff_ids):
                layer += 1
                size = self.images._size(img.config.diff_ids[:layer]) - self.images._size(
                    img.config.diff_ids[: layer - 1])
            key = (json.dumps(hist[: i + 1], sort_keys=True), img.config.diff_ids[:layer])
            owner = img if i == len(hist) - 1 else tops.get(key)
            out.append({
                "Id": owner.id if owner else "<missing>",
                "Created": wire.unix_seconds(str(h.get("created") or "")),
                "CreatedBy": str(h.get("created_by") or ""),
                "Tags": list(owner.repo_tags) or None if owner else None,
                "Size": size,
                "Comment": str(h.get("comment") or ""),
            })
        return out[::-1]

    def _tops(self) -> dict[tuple[str, tuple[str, ...]], ResolvedImage]:
        found = {}
        for image_id in {rec.id for rec in self.images.images.list()}:
            try:
                other = self.images.resolve(image_id)
            except NotFound:
                continue
            found[(json.dumps(list(other.config.history), sort_keys=True), other.config.diff_ids)] = other
        return found

    # -- import --------------------------------------------------------------------------------
    def import_(self, stream: BinaryIO, *, src: str = "-", repo: str = "", tag: str = "", message: str = "",
                changes: Sequence[str] = (), platform: str = "") -> str:
        """``POST /images/create?fromSrc=``: a (possibly compressed) rootfs tar becomes a one-layer image."""
        names = (image_name(repo, tag),) if repo else ()
        plat = platforms.parse(platform) if platform else platforms.host()
        created = now()
        config: dict[str, Any] = {
            "architecture": plat.architecture, "os": plat.os,
            **({"variant": plat.variant} if plat.variant else {}),
            "config": apply_changes({}, changes), "created": created,
            "rootfs": {"type": "layers", "diff_ids": []},
        }
        if message:
            config["comment"] = message
        history = {"created": created, "comment": message or f"Imported from {src}"}
        _, raw = decompress(stream)
        image_id = self.create(iter(lambda: raw.read(1 << 20), b""), NewImage(config, history, names))
        self.images.events.publish(Event(IMAGE, "import", image_id, {"name": names[0] if names else image_id}))
        return image_id

    # -- new images ----------------------------------------------------------------------------
    def create(self, layer: Iterable[bytes] | None, new: NewImage) -> str:
        """Store ``layer`` (uncompressed tar chunks; None or empty: no layer) and make the image; its id."""
        created: list[Digest] = []
        committed: list[str] = []
        try:
            config = json.loads(json.dumps(new.config))
            history = dict(new.history)
            diff_ids = list(config.setdefault("rootfs", {"type": "layers"}).get("diff_ids") or [])
            layers = list(self.layers_of(new.parent)) if new.parent else []
            if len(layers) != len(diff_ids):
                raise InvalidArgument(f"parent image {new.parent} has {len(layers)} layers for {len(diff_ids)} diff ids")
            blob = self._store(layer, created) if layer is not None else None
            if blob is None or blob == EMPTY_LAYER:
                history["empty_layer"] = True
            else:
                diff_ids.append(blob)
                layers.append(blob)
            config["rootfs"] = {"type": "layers", "diff_ids": diff_ids}
            config["history"] = [*(config.get("history") or []), history]
            chain = unpack(self.content, self.images.snapshotter, diff_ids, layers, on_commit=committed.append)
            data = json.dumps(config, separators=(",", ":")).encode()
            config_digest = self._put(data, created)
            manifest = archive._manifest(self.content, config_digest, [Digest(d) for d in layers], created)
            self.images._record([archive.LoadedImage(config_digest, new.names, manifest, chain)])
            return config_digest
        except BaseException as exc:
            self._rollback(committed, created)
            if isinstance(exc, (EngineError, KeyboardInterrupt, SystemExit, GeneratorExit)):
                raise
            if isinstance(exc, (OSError, EOFError, ValueError)):
                raise InvalidArgument(f"invalid layer: {exc}") from exc
            raise

    def create_image(self, config: dict[str, Any], layers: Sequence[str], names: Sequence[str] = ()) -> str:
        """Record an image whose layer blobs are all stored already (the builder's result); its id.

        ``config`` is complete (``rootfs.diff_ids`` and ``history`` included).
        Snapshots are made for missing chain ids; on failure the ones made here
        and the new config blob are removed again.
        """
        created: list[Digest] = []
        committed: list[str] = []
        try:
            diff_ids = list(config.get("rootfs", {}).get("diff_ids") or [])
            chain = unpack(self.content, self.images.snapshotter, diff_ids, list(layers), on_commit=committed.append)
            config_digest = self._put(json.dumps(config, separators=(",", ":")).encode(), created)
            manifest = archive._manifest(self.content, config_digest, [Digest(d) for d in layers], created)
            self.images._record([archive.LoadedImage(config_digest, tuple(names), manifest, chain)])
            return config_digest
        except BaseException:
            self._rollback(committed, created)
            raise

    def _rollback(self, committed: list[str], created: list[Digest]) -> None:
        """Undo a half-made image: the snapshots committed and the blobs stored for it."""
        for c in reversed(committed):
            try:
                self.images.snapshotter.remove(c)
            except EngineError:
                pass
        for d in created:
            try:
                self.content.delete(d)
            except NotFound:
                pass

    def store_layer(self, chunks: Iterable[bytes]) -> Digest:
        """Store an uncompressed layer tar (blob digest = DiffID)."""
        return self._store(chunks, [])

    def _store(self, chunks: Iterable[bytes], created: list[Digest]) -> Digest:
        with self.content.writer(f"layer-{uuid.uuid4().hex}") as w:
            size = 0
            for chunk in chunks:
                size += w.write(chunk)
            d = w.digest()
            existed = self.content.exists(d)
            w.commit(size, d)
        if not existed:
            created.append(d)
        return d

    def _put(self, data: bytes, created: list[Digest]) -> Digest:
        d = of_bytes(data)
        if not self.content.exists(d):
            with self.content.writer(f"config-{d}") as w:
                w.write(data)
                w.commit(len(data), d)
            created.append(d)
        return d


def image_name(repo: str, tag: str) -> str:
    """The normalised name for ``repo`` + ``tag`` query parameters (commit, import)."""
    r = reference.parse(repo, default_tag=False)
    if r.digest or (r.tag and tag):
        raise InvalidArgument(f"invalid reference format: {repo}")
    return str(reference.parse(f"{repo}:{tag}" if tag else repo))


def now() -> str:
    """RFC 3339 with Docker's trimming, for ``created`` fields."""
    return wire.rfc3339(datetime.now(timezone.utc))
