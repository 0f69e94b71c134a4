"""Registry storage: blobs in a content store, repositories as small link files.

Layout under ``--root``::

    content/blobs/sha256/<hex>                      every blob and manifest (LocalContentStore)
    content/ingest/…                                uploads in progress
    repositories/<name>/_layers/<hex>               the blob belongs to <name> (pushed or mounted)
    repositories/<name>/_manifests/revisions/<hex>  a manifest of <name>; holds its media type
    repositories/<name>/_manifests/tags/<tag>       holds the tagged digest
    repositories/<name>/_referrers/<subject hex>/<hex>  descriptor of a manifest whose subject it is

Bytes go through ``core.content.ContentStore`` (verify, fsync, rename), so a
crash never leaves a corrupt blob and two pushes of one blob both succeed.
Links are written the same way (temp file, fsync, rename), after the blob
they point to, so a committed link never points at nothing.  Names are
validated by ``routes`` (no ``..``, no leading ``_``) before they get here.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any, Iterator

from dockyard.core.content import BlobInfo, ContentStore
from dockyard.core.digest import Digest, is_digest
from dockyard.core.digest import of_bytes as digest_of
from dockyard.errors import NotFound

from . import codes
from .codes import RegistryError
from .manifests import ParsedManifest


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``path`` so a reader (or a crash) sees the old content or the new, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


class RegistryStorage:
    """Repositories, tags and referrers over a ``ContentStore``."""

    def __init__(self, root: str | os.PathLike[str], content: ContentStore) -> None:
        self.root = Path(root)
        self.repos = self.root / "repositories"
        self.repos.mkdir(parents=True, exist_ok=True)
        self.content = content

    def _repo(self, name: str) -> Path:
        return self.repos / name

    # -- blobs ----------------------------------------------------------------
    def blob_info(self, name: str, digest: str) -> BlobInfo:
        """The blob as seen from ``name``: BLOB_UNKNOWN unless pushed or mounted there."""
        if not (self._repo(name) / "_layers" / Digest(digest).hex).exists():
            raise RegistryError(codes.BLOB_UNKNOWN, detail={"digest": digest})
        try:
            return self.content.info(digest)
        except NotFound:
            raise RegistryError(codes.BLOB_UNKNOWN, detail={"digest": digest}) from None

    def has_blob(self, name: str, digest: str) -> bool:
        try:
            self.blob_info(name, digest)
            return True
        except RegistryError:
            return False

    def link_blob(self, name: str, digest: str) -> None:
        link = self._repo(name) / "_layers" / Digest(digest).hex
        if not link.exists():
            write_atomic(link, b"")

    def unlink_blob(self, name: str, digest: str) -> None:
        self.blob_info(name, digest)
        os.unlink(self._repo(name) / "_layers" / Digest(digest).hex)

    # -- manifests ------------------------------------------------------------
    def put_manifest(self, name: str, reference: str, body: bytes, parsed: ParsedManifest) -> Digest:
        """Store ``body`` as a revision of ``name`` and point ``reference`` (tag) at it."""
        digest = digest_of(body)
        if is_digest(reference) and reference != digest:
            raise RegistryError(codes.DIGEST_INVALID, "manifest digest does not match the reference",
                                detail={"reference": reference, "digest": digest})
        missing = [d for d in parsed.blobs if not self.has_blob(name, d)]
        missing += [d for d in parsed.manifests if not self.has_manifest(name, d)]
        if missing:
            raise RegistryError(codes.MANIFEST_BLOB_UNKNOWN, detail={"digests": missing})
        if not self.content.exists(digest):
            with self.content.writer(f"manifest-{digest}-{secrets.token_hex(4)}") as w:
                w.write(body)
                w.commit(len(body), digest)
        write_atomic(self._repo(name) / "_manifests" / "revisions" / digest.hex,
                     json.dumps({"mediaType": parsed.media_type}).encode())
        if parsed.subject is not None:
            desc: dict[str, Any] = {"mediaType": parsed.media_type, "digest": digest, "size": len(body)}
            if parsed.artifact_type:
                desc["artifactType"] = parsed.artifact_type
            if parsed.annotations:
                desc["annotations"] = parsed.annotations
            write_atomic(self._repo(name) / "_referrers" / Digest(parsed.subject.digest).hex / digest.hex,
                         json.dumps(desc).encode())
        if not is_digest(reference):
            write_atomic(self._repo(name) / "_manifests" / "tags" / reference, digest.encode())
        return digest

    def resolve(self, name: str, reference: str) -> tuple[Digest, str]:
        """(digest, media type) of a tag or digest in ``name``; MANIFEST_UNKNOWN if absent."""
        try:
            if is_digest(reference):
                digest = Digest(reference)
            else:
                digest = Digest((self._repo(name) / "_manifests" / "tags" / reference).read_text())
            meta = json.loads((self._repo(name) / "_manifests" / "revisions" / digest.hex).read_text())
        except FileNotFoundError:
            raise RegistryError(codes.MANIFEST_UNKNOWN, detail={"reference": reference}) from None
        return digest, str(meta["mediaType"])

    def has_manifest(self, name: str, digest: str) -> bool:
        return (self._repo(name) / "_manifests" / "revisions" / Digest(digest).hex).exists()

    def read_manifest(self, digest: str) -> bytes:
        with self.content.open(digest) as f:
            return f.read()

    def delete_manifest(self, name: str, reference: str) -> None:
        """Delete a tag, or a revision with every tag and referrer entry pointing at it."""
        digest, _ = self.resolve(name, reference)
        tags = self._repo(name) / "_manifests" / "tags"
        if not is_digest(reference):
            os.unlink(tags / reference)
            return
        for tag in self._list(tags):
            if (tags / tag).read_text() == digest:
                os.unlink(tags / tag)
        for sub in self._list(self._repo(name) / "_referrers"):
            try:
                os.unlink(self._repo(name) / "_referrers" / sub / digest.hex)
            except FileNotFoundError:
                pass
        os.unlink(self._repo(name) / "_manifests" / "revisions" / digest.hex)

    # -- listings ---------------------------------------------------------------
    def tags(self, name: str) -> list[str]:
        if not self._repo(name).is_dir():
            raise RegistryError(codes.NAME_UNKNOWN, detail={"name": name})
        return sorted(self._list(self._repo(name) / "_manifests" / "tags"))

    def referrers(self, name: str, subject: str) -> list[dict[str, Any]]:
        d = self._repo(name) / "_referrers" / Digest(subject).hex
        out = []
        for entry in self._list(d):
            try:
                out.append(json.loads((d / entry).read_text()))
            except FileNotFoundError:
                continue  # deleted meanwhile
        return sorted(out, key=lambda x: x["digest"])

    def repositories(self) -> list[str]:
        return sorted(self.iter_repositories())

    def iter_repositories(self) -> Iterator[str]:
        for dirpath, dirnames, _ in os.walk(self.repos):
            if "_manifests" in dirnames or "_layers" in dirnames:
                yield os.path.relpath(dirpath, self.repos)
            dirnames[:] = [d for d in dirnames if not d.startswith("_")]

    def revisions(self, name: str) -> list[Digest]:
        return [Digest.from_hex(h) for h in self._list(self._repo(name) / "_manifests" / "revisions")]

    def layer_links(self, name: str) -> list[Digest]:
        return [Digest.from_hex(h) for h in self._list(self._repo(name) / "_layers")]

    @staticmethod
    def _list(path: Path) -> list[str]:
        try:
            return [e for e in os.listdir(path) if not e.startswith(".")]
        except FileNotFoundError:
            return []
