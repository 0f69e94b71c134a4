"""ImageService: the daemon's entry point for local images (resolve, rootfs, list/inspect, load).

Built from core protocols; the daemon's wiring passes the concrete stores::

    content = LocalContentStore(data_root)
    db = SqliteStateDB(data_root / "state.db")
    snapshotter = OverlaySnapshotter(data_root)
    images = ImageService(content, db.images, snapshotter, data_root)
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Mapping

from dockyard.core.events import EventBus, NullEventBus
from dockyard.core import reference
from dockyard.core.content import ContentStore
from dockyard.core.digest import chain_id
from dockyard.core.images import ImageRecord, ImageStore, dangling_name, is_dangling
from dockyard.core.mount import Mount
from dockyard.core.snapshots import Snapshotter, layer_dirs
from dockyard.errors import ImageNotFound, InvalidArgument, InvalidReference, NotFound, Unavailable
from dockyard.image import archive, rootfs
from dockyard.core.progress import Progress, ProgressSink, discard
from dockyard.core.events import IMAGE, Event
from dockyard.core.remotes import Credentials, Remotes, Resolver
from dockyard.image.remove import Remover, Users
from dockyard.oci.image import Descriptor, ImageConfig
from dockyard.wire.models import images as wire

if TYPE_CHECKING:
    from dockyard.image.layer_compress import LayerBlobs

_HEX_PREFIX = re.compile(r"^[a-f0-9]{1,64}$")
LIST_FILTERS = frozenset({"dangling", "label", "reference", "before", "since", "until"})


@dataclass(frozen=True, slots=True)
class ResolvedImage:
    id: str  # "sha256:<config digest hex>"
    name: str  # the normalised name that matched, "" when resolved by id
    config: ImageConfig
    chain_id: str  # top layer's chain id, "" for an image without layers
    repo_tags: tuple[str, ...]  # familiar names of every tag of this image, sorted
    target: Descriptor  # the manifest
    raw_config: Mapping[str, Any]  # the config blob as JSON (for inspect)
    last_tag_time: datetime
    repo_digests: tuple[str, ...] = ()  # familiar "repo@sha256:..." of every digest name (pulls, pushes)


class ImageService:
    def __init__(self, content: ContentStore, images: ImageStore, snapshotter: Snapshotter,
                 data_root: str | Path, events: EventBus | None = None, remotes: Remotes | None = None,
                 image_users: Users | None = None, layer_blobs: "LayerBlobs | None" = None) -> None:
        self.remotes = remotes  # registry access (pull, push, login); None: registries unavailable
        self.layer_blobs = layer_blobs  # DiffID -> gzip blob made by a push (None: remembered per push only)
        self.image_users: Users = image_users or (lambda _id: [])  # containers using an image (rmi, prune)
        self.events: EventBus = events or NullEventBus()  # publish image events here
        self.content = content
        self.images = images
        self.snapshotter = snapshotter
        self.data_root = Path(data_root)
        self._configs: dict[str, tuple[ImageConfig, dict[str, Any]]] = {}  # configs are immutable
        self._sizes: dict[str, int] = {}  # chain id -> bytes; committed snapshots are immutable
        self._lock = threading.Lock()

    # -- resolving -----------------------------------------------------------------
    def resolve(self, ref: str) -> ResolvedImage:
        """A name (normalised), ``sha256:<hex>``, a bare hex id or a unique id prefix.

        ImageNotFound ("No such image: busybox:latest"), InvalidReference for a malformed name.
        """
        if not ref:
            raise InvalidReference("invalid reference format")
        if ref.startswith("sha256:"):
            hit = self._by_id_prefix(ref[len("sha256:"):])
            if hit is None:
                raise ImageNotFound(f"No such image: {ref}")
            return self._resolved(hit, "")
        if len(ref) == 64 and _HEX_PREFIX.match(ref):
            hit = self._by_id_prefix(ref)
            if hit is None:
                raise ImageNotFound(f"No such image: {ref}")
            return self._resolved(hit, "")
        r = reference.parse(ref)
        record = self._by_name(r)
        if record is not None:
            return self._resolved(record.id, record.name)
        if _HEX_PREFIX.match(ref):
            hit = self._by_id_prefix(ref)
            if hit is not None:
                return self._resolved(hit, "")
        raise ImageNotFound(f"No such image: {r.familiar()}")

    def _by_name(self, r: reference.Reference) -> ImageRecord | None:
        if r.digest:
            try:
                return self.images.get(f"{r.name}@{r.digest}")  # a pulled or pushed repo digest
            except ImageNotFound:
                pass
            for rec in self.images.list(lambda x: x.target.digest == r.digest):
                if not is_dangling(rec.name) and reference.parse(rec.name).name == r.name:
                    return rec
            return None
        try:
            return self.images.get(str(r))
        except ImageNotFound:
            return None

    def _by_id_prefix(self, prefix: str) -> str | None:
        if not _HEX_PREFIX.match(prefix):
            return None
        ids = {rec.id for rec in self.images.list() if rec.id.startswith("sha256:" + prefix)}
        return ids.pop() if len(ids) == 1 else None  # Docker accepts only a unique prefix

    def _resolved(self, image_id: str, name: str) -> ResolvedImage:
        records = self.images.by_id(image_id)
        if not records:
            raise ImageNotFound(f"No such image: {image_id}")
        config, raw = self._config(image_id)
        tags = sorted(reference.familiar(r.name) for r in records if not is_dangling(r.name) and "@" not in r.name)
        digests = sorted(reference.familiar(r.name) for r in records if not is_dangling(r.name) and "@" in r.name)
        return ResolvedImage(image_id, name, config, chain_id(config.diff_ids), tuple(tags), records[0].target, raw,
                             max(r.created for r in records), tuple(digests))

    def _config(self, image_id: str) -> tuple[ImageConfig, dict[str, Any]]:
        with self._lock:
            hit = self._configs.get(image_id)
        if hit is None:
            with self.content.open(image_id) as f:
                raw = json.loads(f.read())
            hit = (ImageConfig.from_json(raw), raw)
            with self._lock:
                self._configs[image_id] = hit
        return hit

    # -- container root filesystems -----------------------------------------------------
    def prepare_rootfs(self, key: str, image_id: str) -> list[Mount]:
        """An active snapshot ``key`` on top of the image's top layer (AlreadyExists if taken)."""
        img = self.resolve(image_id)
        return self.snapshotter.prepare(key, img.chain_id or None, labels={"dockyard.image": img.id})

    def remove_rootfs(self, key: str) -> None:
        """Remove the container's snapshot; absent is fine."""
        try:
            self.snapshotter.remove(key)
        except NotFound:
            pass

    def read_rootfs_file(self, key: str, path: str) -> bytes | None:
        """``path`` as the container would see it (upper, then lowers; whiteouts honoured), or None."""
        return rootfs.read_file(layer_dirs(self.snapshotter.mounts(key)), path)

    # -- Docker API shapes ------------------------------------------------------------
    def list_json(self, all: bool = False, filters: dict[str, list[str]] | None = None) -> list[dict[str, Any]]:
        """``GET /images/json`` (``all`` has no effect: there are no intermediate images)."""
        filters = filters or {}
        for key in filters:
            if key not in LIST_FILTERS:
                raise InvalidArgument(f"invalid filter '{key}'")
        by_id: dict[str, list[ImageRecord]] = {}
        for rec in self.images.list():
            by_id.setdefault(rec.id, []).append(rec)
        out = []
        for image_id in by_id:
            img = self._resolved(image_id, "")
            if not self._matches(img, filters):
                continue
            out.append(wire.image_summary(
                id=img.id, repo_tags=img.repo_tags, repo_digests=list(img.repo_digests), created=img.config.created,
                size=self._size(img.config.diff_ids), labels=img.config.config.labels))
        out.sort(key=lambda s: (-s["Created"], s["Id"]))
        return out

    def inspect_json(self, ref: str) -> dict[str, Any]:
        """``GET /images/{name}/json``."""
        img = self.resolve(ref)
        return wire.image_inspect(
            id=img.id, repo_tags=img.repo_tags, repo_digests=list(img.repo_digests), config=img.raw_config,
            size=self._size(img.config.diff_ids), last_tag_time=wire.rfc3339(img.last_tag_time),
            graph_driver=self._graph_driver(img.chain_id))

    def _size(self, diff_ids: tuple[str, ...]) -> int:
        total = 0
        for i in range(len(diff_ids)):
            chain = chain_id(diff_ids[: i + 1])
            if chain not in self._sizes:
                try:
                    self._sizes[chain] = self.snapshotter.usage(chain).size
                except NotFound:
                    self._sizes[chain] = 0
            total += self._sizes[chain]
        return total

    def _graph_driver(self, chain: str) -> dict[str, str]:
        if not chain:
            return {}
        dirs = layer_dirs(self.snapshotter.mounts(chain))
        base = str(Path(dirs[0]).parent)
        data = {"MergedDir": f"{base}/merged", "UpperDir": dirs[0], "WorkDir": f"{base}/work"}
        if len(dirs) > 1:
            data["LowerDir"] = ":".join(dirs[1:])
        return data

    def _matches(self, img: ResolvedImage, filters: dict[str, list[str]]) -> bool:
        for value in filters.get("dangling", []):
            if value.lower() not in ("true", "false", "1", "0"):
                raise InvalidArgument(f"Invalid filter 'dangling=[{value}]'")
            if (value.lower() in ("true", "1")) != (not img.repo_tags):
                return False
        labels = img.config.config.labels
        for want in filters.get("label", []):
            k, sep, v = want.partition("=")
            if k not in labels or (sep and labels[k] != v):
                return False
        patterns = filters.get("reference", [])
        if patterns and not any(_reference_match(p, t) for p in patterns for t in img.repo_tags):
            return False
        created = wire.unix_seconds(img.config.created)
        for ref in filters.get("before", []):
            if created >= wire.unix_seconds(self.resolve(ref).config.created):
                return False
        for ref in filters.get("since", []):
            if created <= wire.unix_seconds(self.resolve(ref).config.created):
                return False
        for value in filters.get("until", []):
            limit = wire.parse_time(value)
            until = int(limit.timestamp()) if limit else _int(value, "until")
            if created >= until:
                return False
        return True

    def count(self) -> int:
        """Number of distinct images (ids), tagged or not."""
        return len({rec.id for rec in self.images.list()})

    # -- load ------------------------------------------------------------------------
    def load(self, stream: BinaryIO, quiet: bool = False) -> list[str]:
        """``docker load``: familiar names loaded (``busybox:latest``), or ``sha256:<id>`` for untagged images."""
        loaded = archive.load(stream, self.content, self.snapshotter, self._record)
        out: list[str] = []
        for img in loaded:
            out.extend(reference.familiar(n) for n in img.names) if img.names else out.append(img.id)
            shown = reference.familiar(img.names[0]) if img.names else img.id
            self.events.publish(Event(IMAGE, "load", img.id, {"name": shown}))
        return out

    def _record(self, loaded: list[archive.LoadedImage]) -> None:
        now = datetime.now(timezone.utc)
        for img in loaded:
            for name in img.names:
                try:
                    old: ImageRecord | None = self.images.get(name)
                except ImageNotFound:
                    old = None
                self.images.put(ImageRecord(name, img.manifest, img.id, now))
                if old is not None and old.id != img.id and not self.images.by_id(old.id):
                    # The old image lost its last name: keep it as <none>:<none>, as Docker does.
                    self.images.put(ImageRecord(dangling_name(old.id), old.target, old.id, now))
            if img.names:
                try:
                    self.images.delete(dangling_name(img.id))
                except ImageNotFound:
                    pass
            elif not self.images.by_id(img.id):
                self.images.put(ImageRecord(dangling_name(img.id), img.manifest, img.id, now))

    # -- registries: pull, push, tag, remove, prune, login -----------------------------
    # The work is done by image/pull.py, push.py and remove.py; these methods name things.
    def _resolver(self, credentials: Credentials | None) -> Resolver:
        if self.remotes is None:
            raise Unavailable("registry access is not configured in this daemon")
        return self.remotes.resolver(credentials)

    def _record_of(self, name: str) -> ImageRecord | None:
        try:
            return self.images.get(name)
        except ImageNotFound:
            return None

    def pull(self, ref: str, *, platform: str = "", credentials: Credentials | None = None,
             sink: ProgressSink = discard, all_tags: bool = False) -> str:
        """Pull ``ref`` (name[:tag][@digest]) for ``platform`` (default: the host's); its normalised name.

        ``all_tags``: every tag the registry lists for the repository (Docker's
        ``fromImage`` without a tag); one ``Status`` line for the repository."""
        from dockyard.image import platforms

        want = platforms.parse(platform) if platform else platforms.host()
        resolver = self._resolver(credentials)
        if not all_tags:
            r = reference.parse(ref)
            name, fresh = self._pull_one(resolver, r, want, bool(platform), sink)
            shown = reference.familiar(name) if r.tag and not r.digest else reference.familiar(f"{r.name}@{r.digest}")
        else:
            r = reference.parse(ref, default_tag=False)
            fresh = False
            for t in resolver.tags(r):
                fresh = self._pull_one(resolver, reference.Reference(r.domain, r.path, t), want, bool(platform),
                                       sink)[1] or fresh
            name = shown = r.familiar_name()
        sink(Progress(f"Status: {'Downloaded newer image' if fresh else 'Image is up to date'} for {shown}"))
        self.events.publish(Event(IMAGE, "pull", shown, {"name": shown}))
        return name if not all_tags else r.name

    def _pull_one(self, resolver: Resolver, r: reference.Reference, want: Any, explicit: bool,
                  sink: ProgressSink) -> tuple[str, bool]:
        """Pull and name one tag or digest: (its normalised name, whether anything new arrived)."""
        from dockyard.image.pull import pull as pull_image

        tag_name = str(reference.Reference(r.domain, r.path, r.tag)) if r.tag and not r.digest else ""
        old = self._record_of(tag_name or str(r))
        pulled = pull_image(self.content, self.snapshotter, resolver, r, want, sink, explicit_platform=explicit)
        names = ([tag_name] if tag_name else []) + [f"{r.name}@{pulled.repo_digest}"]
        self._record([archive.LoadedImage(pulled.image_id, tuple(names), pulled.manifest, "")])
        sink(Progress(f"Digest: {pulled.repo_digest}"))
        fresh = pulled.downloaded or old is None or old.id != pulled.image_id
        return tag_name or f"{r.name}@{pulled.repo_digest}", fresh

    def push(self, ref: str, *, tag: str = "", credentials: Credentials | None = None,
             sink: ProgressSink = discard) -> None:
        """Push ``ref`` -- one tag, or every tag of the repository when none is given (Docker's API)."""
        from dockyard.image.push import push as push_image

        r = reference.parse(ref, default_tag=False)
        if r.digest:
            raise InvalidArgument("cannot push a digest reference")
        tag = tag or r.tag
        if tag:
            found = [x for x in (self._record_of(f"{r.name}:{tag}"),) if x is not None]
        else:
            found = sorted((x for x in self.images.list() if "@" not in x.name and not is_dangling(x.name)
                            and reference.parse(x.name).name == r.name), key=lambda x: x.name)
        if not found:
            raise ImageNotFound(f"An image does not exist locally with the tag: {r.familiar_name()}")
        sink(Progress(f"The push refers to repository [{r.name}]"))
        resolver = self._resolver(credentials)
        sources = self._mount_sources(r)
        for rec in found:
            t = reference.parse(rec.name).tag
            pushed = push_image(self.content, resolver, reference.Reference(r.domain, r.path, t), rec.target, sink,
                                sources, self.layer_blobs)
            sink(Progress(f"{t}: digest: {pushed.digest} size: {pushed.size}"))
            sink(Progress("", aux={"Tag": t, "Digest": pushed.digest, "Size": pushed.size}))
            # The RepoDigest names the manifest pushed (gzip layers), which also keeps its blobs referenced.
            self._record([archive.LoadedImage(rec.id, (f"{r.name}@{pushed.digest}",), pushed.manifest or rec.target,
                                              "")])
            self.events.publish(Event(IMAGE, "push", reference.familiar(rec.name), {"name": reference.familiar(rec.name)}))

    def _mount_sources(self, target: reference.Reference) -> Callable[[str], list[str]]:
        """Other repositories of the same registry whose images hold a blob (cross-repository mounts)."""
        repos_by_manifest: dict[str, set[str]] = {}
        for rec in self.images.list():
            if is_dangling(rec.name):
                continue
            r = reference.parse(rec.name.split("@", 1)[0])
            if r.domain == target.domain and r.path != target.path:
                repos_by_manifest.setdefault(rec.target.digest, set()).add(r.path)
        by_blob: dict[str, set[str]] = {}
        for manifest, repos in repos_by_manifest.items():
            try:
                with self.content.open(manifest) as f:
                    doc = json.loads(f.read())
            except (NotFound, ValueError):
                continue
            for d in [doc.get("config"), *(doc.get("layers") or [])]:
                if isinstance(d, dict) and isinstance(d.get("digest"), str):
                    by_blob.setdefault(d["digest"], set()).update(repos)
        return lambda digest: sorted(by_blob.get(digest, ()))

    def tag(self, source: str, repo: str, tag: str = "") -> str:
        """``POST /images/{name}/tag``: name the image ``repo:tag`` (``latest`` by default)."""
        img = self.resolve(source)
        target = reference.parse(f"{repo}:{tag}" if tag else repo)
        if target.digest:
            raise InvalidArgument("refusing to create a tag with a digest reference")
        self._record([archive.LoadedImage(img.id, (str(target),), img.target, "")])
        self.events.publish(Event(IMAGE, "tag", img.id, {"name": target.familiar()}))
        return str(target)

    def _remover(self) -> Remover:
        return Remover(self.content, self.images, self.snapshotter, self.image_users,
                       lambda image_id: self._config(image_id)[0])

    def remove(self, ref: str, *, force: bool = False, noprune: bool = False) -> list[dict[str, str]]:
        """``DELETE /images/{name}``: ``[{"Untagged": ...}, {"Deleted": ...}]`` as Docker answers."""
        try:
            rec = self._by_name(reference.parse(ref)) if ref and not ref.startswith("sha256:") else None
        except InvalidReference:
            rec = None
        if rec is not None and not is_dangling(rec.name):
            out = self._remover().remove_by_name(rec, force)
        else:
            out = self._remover().remove_by_id(self.resolve(ref).id, force)
        for item in out:
            for action, what in item.items():
                self.events.publish(Event(IMAGE, "untag" if action == "Untagged" else "delete", what, {"name": what}))
        return out

    def prune(self, filters: dict[str, list[str]] | None = None) -> dict[str, Any]:
        """``POST /images/prune``: dangling images, or every unused one with ``dangling=false``."""
        filters = filters or {}
        for key in filters:
            if key not in ("dangling", "until", "label", "label!"):
                raise InvalidArgument(f"invalid filter '{key}'")
        dangling_only = True
        for value in filters.get("dangling", []):
            if value.lower() not in ("true", "false", "1", "0"):
                raise InvalidArgument(f"Invalid filter 'dangling=[{value}]'")
            dangling_only = value.lower() in ("true", "1")

        def keep(image_id: str) -> bool:
            config = self._config(image_id)[0]
            probe = {k: v for k, v in filters.items() if k in ("until", "label")}
            img = self._resolved(image_id, "")
            if probe and not self._matches(img, probe):
                return True
            labels = config.config.labels
            for want in filters.get("label!", []):
                k, sep, v = want.partition("=")
                if k in labels and (not sep or labels[k] == v):
                    return True
            return False

        deleted, reclaimed = self._remover().prune(dangling_only, keep)
        return {"ImagesDeleted": deleted or None, "SpaceReclaimed": reclaimed}

    def login(self, credentials: Credentials) -> dict[str, str]:
        """``POST /auth``: check credentials with the registry."""
        if self.remotes is None:
            raise Unavailable("registry access is not configured in this daemon")
        token = self.remotes.login(credentials)
        return {"Status": "Login Succeeded", "IdentityToken": token}


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise InvalidArgument(f"invalid filter '{name}={value}'") from None


def _reference_match(pattern: str, familiar_tag: str) -> bool:
    """Docker's FamiliarMatch: ``path.Match`` against ``repo:tag`` and against ``repo``."""
    repo = familiar_tag.rsplit(":", 1)[0] if ":" in familiar_tag.rsplit("/", 1)[-1] else familiar_tag
    rx = _path_pattern(pattern)
    return bool(rx.match(familiar_tag) or rx.match(repo))


def _path_pattern(pattern: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = pattern.find("]", i + 1)
            if j < 0:
                raise InvalidArgument(f"invalid reference filter pattern {pattern!r}")
            body = pattern[i + 1 : j]
            negate = body.startswith("^")
            chars = re.escape(body[1:] if negate else body).replace("\\-", "-")  # keep ranges like a-z
            out.append("[" + ("^" if negate else "") + chars + "]")
            i = j
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("^" + "".join(out) + "$")
