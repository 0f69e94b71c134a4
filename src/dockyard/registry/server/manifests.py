"""Validate a pushed manifest and list what it references (pure).

The four types we accept: Docker v2 schema 2 manifest and manifest list, OCI
image manifest and index.  ``parse`` refuses anything malformed with
MANIFEST_INVALID and tells the handler which blobs and child manifests must
already exist, the ``subject`` (referrers API) and the ``artifactType``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from dockyard.core.digest import is_digest
from dockyard.errors import InvalidArgument
from dockyard.oci import image as oci

from . import codes
from .codes import RegistryError

MAX_MANIFEST = 4 << 20  # distribution's limit; the spec lets a registry pick one (413 beyond)
IMAGE_TYPES = (oci.OCI_MANIFEST, oci.DOCKER_MANIFEST)
INDEX_TYPES = (oci.OCI_INDEX, oci.DOCKER_MANIFEST_LIST)
SUPPORTED = IMAGE_TYPES + INDEX_TYPES
MANIFEST_TOO_BIG = codes.Code("SIZE_INVALID", 413, "manifest too large")


@dataclass(frozen=True, slots=True)
class ParsedManifest:
    media_type: str
    blobs: tuple[str, ...] = ()  # config + layers: must exist as blobs
    manifests: tuple[str, ...] = ()  # index children: must exist as manifests
    subject: oci.Descriptor | None = None
    artifact_type: str = ""
    annotations: dict[str, str] = field(default_factory=dict)


def _invalid(message: str, **detail: Any) -> RegistryError:
    return RegistryError(codes.MANIFEST_INVALID, message, detail=detail or None)


def _descriptor(obj: Any, where: str) -> oci.Descriptor:
    try:
        d = oci.Descriptor.from_json(obj)
    except InvalidArgument as exc:
        raise _invalid(f"{where}: {exc}") from None
    if not is_digest(d.digest):
        raise _invalid(f"{where}: invalid digest", digest=d.digest)
    return d


def _descriptors(obj: Any, key: str) -> list[oci.Descriptor]:
    items = obj.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        raise _invalid(f"{key} must be a list")
    return [_descriptor(it, f"{key}[{i}]") for i, it in enumerate(items)]


def parse(body: bytes, content_type: str | None) -> ParsedManifest:
    """Validate ``body`` as pushed with ``content_type``; RegistryError when it is not acceptable."""
    if len(body) > MAX_MANIFEST:
        raise RegistryError(MANIFEST_TOO_BIG, detail={"limit": MAX_MANIFEST})
    try:
        obj = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise _invalid("manifest is not valid JSON") from None
    if not isinstance(obj, dict):
        raise _invalid("manifest must be a JSON object")
    if obj.get("schemaVersion") != 2:
        raise _invalid("schemaVersion must be 2")
    declared = obj.get("mediaType")
    ctype = (content_type or "").split(";")[0].strip()
    if declared is not None and not isinstance(declared, str):
        raise _invalid("mediaType must be a string")
    if ctype and declared and ctype != declared:
        raise _invalid("mediaType does not match Content-Type", mediaType=declared, contentType=ctype)
    media_type = ctype or declared or _guess(obj)
    if media_type not in SUPPORTED:
        raise _invalid(f"unsupported manifest media type {media_type!r}")
    artifact_type = obj.get("artifactType") or ""
    if not isinstance(artifact_type, str):
        raise _invalid("artifactType must be a string")
    subject = _descriptor(obj["subject"], "subject") if obj.get("subject") is not None else None
    annotations = obj.get("annotations") or {}
    if not isinstance(annotations, dict):
        raise _invalid("annotations must be an object")
    if media_type in IMAGE_TYPES:
        if "manifests" in obj:
            raise _invalid("an image manifest has no manifests field")
        config = _descriptor(obj.get("config"), "config")
        layers = _descriptors(obj, "layers")
        if media_type == oci.DOCKER_MANIFEST and not layers:
            raise _invalid("a Docker manifest needs at least one layer")
        # Referrers API: artifactType falls back to the config's media type.
        return ParsedManifest(media_type, (config.digest, *[l.digest for l in layers]), (), subject,
                              artifact_type or config.media_type, dict(annotations))
    if "layers" in obj or "config" in obj:
        raise _invalid("an index has no config or layers field")
    children = _descriptors(obj, "manifests")
    if "manifests" not in obj:
        raise _invalid("an index needs a manifests field")
    return ParsedManifest(media_type, (), tuple(c.digest for c in children), subject, artifact_type,
                          dict(annotations))


def _guess(obj: dict[str, Any]) -> str:
    """OCI lets mediaType be absent; tell manifest from index by shape."""
    return oci.OCI_INDEX if "manifests" in obj else oci.OCI_MANIFEST


def accepts(accept: str | None, media_type: str) -> bool:
    """Content negotiation: may a manifest of ``media_type`` answer this ``Accept``?

    No Accept header (or ``*/*``) takes anything; otherwise the type must be listed.
    """
    if not accept:
        return True
    listed = {part.split(";")[0].strip() for part in accept.split(",")}
    return bool(listed & {media_type, "*/*", "application/*"}) or listed == {""}
