"""Garbage collection: remove blobs that no manifest of any repository references.

Mark: every manifest revision of every repository is live, with the blobs
its config/layers name and the child manifests an index lists.  Sweep:
every other blob in the content store, and repository links to it, goes.
Blobs younger than ``grace`` seconds are kept even if unreferenced, so a
push in progress (blobs first, manifest last) survives a collection that
runs beside a serving registry.  ``dry_run`` reports without deleting.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from dockyard.core.digest import Digest, is_digest
from dockyard.errors import NotFound

from .storage import RegistryStorage


@dataclass
class GcReport:
    marked: set[str] = field(default_factory=set)
    swept: list[tuple[str, int]] = field(default_factory=list)  # (digest, size)
    kept_young: list[str] = field(default_factory=list)

    @property
    def freed(self) -> int:
        return sum(size for _, size in self.swept)


def _references(body: bytes) -> list[str]:
    """Digests a stored manifest points at (config, layers, children); [] if unreadable."""
    try:
        obj = json.loads(body)
    except ValueError:
        return []
    if not isinstance(obj, dict):
        return []
    out = []
    descs = [obj.get("config")] + list(obj.get("layers") or []) + list(obj.get("manifests") or [])
    for d in descs:
        if isinstance(d, dict) and isinstance(d.get("digest"), str) and is_digest(d["digest"]):
            out.append(d["digest"])
    return out


def mark(storage: RegistryStorage) -> set[str]:
    live: set[str] = set()
    for name in storage.iter_repositories():
        for digest in storage.revisions(name):
            live.add(digest)
            try:
                live.update(_references(storage.read_manifest(digest)))
            except NotFound:
                continue  # revision link without its blob: nothing more to mark
    return live


def collect(storage: RegistryStorage, *, dry_run: bool = False, grace: float = 0.0,
            now: float = 0.0) -> GcReport:
    report = GcReport(marked=mark(storage))
    for info in list(storage.content.walk()):
        if info.digest in report.marked:
            continue
        if grace and now - info.created_at < grace:
            report.kept_young.append(info.digest)
            continue
        report.swept.append((info.digest, info.size))
        if not dry_run:
            _unlink_everywhere(storage, info.digest)
            try:
                storage.content.delete(info.digest)
            except NotFound:
                pass
    return report


def _unlink_everywhere(storage: RegistryStorage, digest: Digest | str) -> None:
    # Links go first: a link without a blob would advertise what we cannot serve.
    hex_ = Digest(digest).hex
    for name in storage.iter_repositories():
        try:
            os.unlink(storage.repos / name / "_layers" / hex_)
        except FileNotFoundError:
            pass
