"""``docker rmi`` and ``docker image prune``: untag vs delete, container conflicts, freeing content.

Docker's rules (moby ``daemon/images/image_delete.go``), kept:

* By name: the name is untagged.  If it was the image's last reference the
  image is deleted too -- unless a container uses it, which is a 409 without
  ``-f`` (with ``-f`` the name goes and the image stays, now ``<none>``).
  Untagging a repository's last tag also drops that repository's digests.
* By id: refused (409) when several repositories reference the image, unless
  forced; refused even with ``-f`` while a running container uses it.
* Deleting an image frees its snapshots (top down, those no other image
  shares) and its blobs that no remaining image references.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from dockyard.core import reference
from dockyard.core.content import ContentStore
from dockyard.core.digest import chain_id
from dockyard.core.images import ImageRecord, ImageStore, dangling_name, is_dangling
from dockyard.core.snapshots import Snapshotter
from dockyard.errors import Conflict, EngineError, ImageNotFound, NotFound
from dockyard.oci import image as oci


@dataclass(frozen=True, slots=True)
class ImageUser:
    container_id: str
    running: bool


Users = Callable[[str], list[ImageUser]]  # image id -> containers created from it


def _short(image_id: str) -> str:
    return image_id.split(":", 1)[-1][:12]


class Remover:
    def __init__(self, content: ContentStore, images: ImageStore, snapshotter: Snapshotter, users: Users,
                 config_of: Callable[[str], oci.ImageConfig]) -> None:
        self.content, self.images, self.snapshotter = content, images, snapshotter
        self.users, self.config_of = users, config_of

    # -- rmi ---------------------------------------------------------------------------
    def remove_by_name(self, rec: ImageRecord, force: bool) -> list[dict[str, str]]:
        names = self._names(rec.id)
        manifests = {r.target.digest for r in self.images.by_id(rec.id)}
        out: list[dict[str, str]] = []
        if len(names) <= 1 or self._drops_last_of_image(rec, names):
            users = self.users(rec.id)
            if users and not force:
                raise Conflict(f"conflict: unable to remove repository reference \"{reference.familiar(rec.name)}\" "
                               f"(must force) - container {users[0].container_id[:12]} is using its referenced "
                               f"image {_short(rec.id)}")
        out += self._untag(rec)
        if "@" not in rec.name:
            repo = reference.parse(rec.name).name
            if not any(_repo(n) == repo and "@" not in n for n in self._names(rec.id)):
                for n in self._names(rec.id):
                    if "@" in n and _repo(n) == repo:
                        out += self._untag(self.images.get(n))
        if not self._names(rec.id):
            if self.users(rec.id):
                self._keep_dangling(rec.target, rec.id)
            else:
                out += self.delete_image(rec.id, manifests)
        return out

    def remove_by_id(self, image_id: str, force: bool) -> list[dict[str, str]]:
        names = self._names(image_id)
        repos = {_repo(n) for n in names}
        if len(repos) > 1 and not force:
            raise Conflict(f"conflict: unable to delete {_short(image_id)} (must be forced) - image is referenced "
                           "in multiple repositories")
        users = self.users(image_id)
        running = [u for u in users if u.running]
        if running:
            raise Conflict(f"conflict: unable to delete {_short(image_id)} (cannot be forced) - image is being used "
                           f"by running container {running[0].container_id[:12]}")
        if users and not force:
            raise Conflict(f"conflict: unable to delete {_short(image_id)} (must be forced) - image is being used "
                           f"by stopped container {users[0].container_id[:12]}")
        out: list[dict[str, str]] = []
        records = self.images.by_id(image_id)
        manifests = {r.target.digest for r in records}
        for n in names:
            out += self._untag(self.images.get(n))
        if users:
            if records:
                self._keep_dangling(records[0].target, image_id)
            return out
        return out + self.delete_image(image_id, manifests)

    def _drops_last_of_image(self, rec: ImageRecord, names: list[str]) -> bool:
        # Untagging the repository's last tag also drops its digests: is anything left after that?
        if "@" in rec.name:
            return False
        repo = _repo(rec.name)
        rest = [n for n in names if n != rec.name and not (_repo(n) == repo and "@" in n)]
        return not rest

    def _names(self, image_id: str) -> list[str]:
        return sorted(r.name for r in self.images.by_id(image_id) if not is_dangling(r.name))

    def _untag(self, rec: ImageRecord) -> list[dict[str, str]]:
        try:
            self.images.delete(rec.name)
        except ImageNotFound:
            return []
        self._free_orphan_manifest(rec)
        return [{"Untagged": reference.familiar(rec.name)}]

    def _free_orphan_manifest(self, rec: ImageRecord) -> None:
        """A name that was the last to use its manifest while the image lives on under another one
        (a push's gzip manifest, a pull of a loaded image): free that manifest and the blobs only it used.
        (When the image itself goes, ``delete_image`` frees everything.)"""
        remaining = self.images.list()
        if any(r.target.digest == rec.target.digest for r in remaining):
            return
        if not any(r.id == rec.id for r in remaining):
            return
        self._free_blobs({rec.target.digest}, remaining)

    def _keep_dangling(self, target: oci.Descriptor, image_id: str) -> None:
        if not self.images.by_id(image_id):
            self.images.put(ImageRecord(dangling_name(image_id), target, image_id, datetime.now(timezone.utc)))

    # -- deleting content --------------------------------------------------------------------
    def delete_image(self, image_id: str, manifests: set[str] = frozenset()) -> list[dict[str, str]]:  # type: ignore[assignment]
        """Drop every record of the image, then its unshared snapshots and blobs (``manifests`` too)."""
        records = self.images.by_id(image_id)
        manifests = set(manifests) | {r.target.digest for r in records}
        for r in records:
            try:
                self.images.delete(r.name)
            except ImageNotFound:
                pass
        out = [{"Deleted": image_id}]
        remaining = self.images.list()
        try:
            diff_ids = self.config_of(image_id).diff_ids
        except EngineError:
            diff_ids = ()
        kept_chains = self._chains(r.id for r in remaining)
        for i in range(len(diff_ids), 0, -1):
            chain = chain_id(diff_ids[:i])
            if chain in kept_chains:
                break  # shared below this point
            try:
                self.snapshotter.remove(chain)
            except NotFound:
                continue
            except Conflict:
                break  # a container or another snapshot still builds on it
            out.append({"Deleted": chain})
        self._free_blobs(manifests | {image_id}, remaining)
        return out

    def _chains(self, image_ids: Iterable[str]) -> set[str]:
        chains: set[str] = set()
        for iid in set(image_ids):
            try:
                diff = self.config_of(iid).diff_ids
            except EngineError:
                continue
            chains.update(chain_id(diff[: i + 1]) for i in range(len(diff)))
        return chains

    def _free_blobs(self, candidates: set[str], remaining: list[ImageRecord]) -> None:
        keep: set[str] = set()
        for r in remaining:
            keep.add(r.target.digest)
            keep.add(r.id)
            if "@" in r.name:
                keep.add(r.name.rsplit("@", 1)[1])
            keep.update(self._blobs_of(r.target.digest))
        todo = set(candidates)
        for m in candidates:
            todo.update(self._blobs_of(m))
        for d in todo - keep:
            try:
                self.content.delete(d)
            except (NotFound, EngineError):
                pass

    def _blobs_of(self, manifest_digest: str) -> set[str]:
        try:
            with self.content.open(manifest_digest) as f:
                doc = json.loads(f.read())
        except (EngineError, ValueError, OSError):
            return set()
        out: set[str] = set()
        if isinstance(doc, dict):
            for d in [doc.get("config"), *(doc.get("layers") or []), *(doc.get("manifests") or [])]:
                if isinstance(d, dict) and isinstance(d.get("digest"), str):
                    out.add(d["digest"])
        return out

    # -- prune -------------------------------------------------------------------------
    def prune(self, dangling_only: bool, keep: Callable[[str], bool]) -> tuple[list[dict[str, str]], int]:
        """Delete unused images (only untagged ones with ``dangling_only``); ``keep(id)`` filters."""
        by_id: dict[str, list[ImageRecord]] = {}
        for r in self.images.list():
            by_id.setdefault(r.id, []).append(r)
        out: list[dict[str, str]] = []
        before = self._usage()
        for image_id, recs in by_id.items():
            named = [r for r in recs if not is_dangling(r.name)]
            if dangling_only and named:
                continue
            if self.users(image_id) or keep(image_id):
                continue
            manifests = {r.target.digest for r in recs}
            for r in named:
                out += self._untag(r)
            out += self.delete_image(image_id, manifests)
        return out, max(0, before - self._usage())

    def _usage(self) -> int:
        return sum(b.size for b in self.content.walk())


def _repo(name: str) -> str:
    return reference.parse(name.split("@", 1)[0], default_tag=False).name if "@" in name else \
        reference.parse(name).name


__all__ = ["ImageUser", "Remover", "Users"]
