"""Request routing and validation of names, tags and digests (pure).

``route(method, path)`` turns a request line into a ``Route``: which
endpoint, the validated repository name and reference, and the access it
needs (the ``repository:<name>:<actions>`` scope of the token spec).  Bad
names and references are refused here, before any handler runs.

Endpoints (distribution-spec "Endpoints" table, end-1 … end-13, plus ours)::

    /v2/                                   base
    /v2/_catalog                           catalog
    /v2/<name>/tags/list                   tags
    /v2/<name>/manifests/<reference>       manifest
    /v2/<name>/blobs/uploads/              upload_start
    /v2/<name>/blobs/uploads/<id>          upload
    /v2/<name>/blobs/<digest>              blob
    /v2/<name>/referrers/<digest>          referrers
    /token                                 token   (built-in token service)
    /metrics                               metrics (Prometheus text)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dockyard.core.digest import is_digest

from . import codes
from .codes import RegistryError

# distribution-spec "Pulling manifests": <name> and <reference> grammar.
_NAME_RE = re.compile(r"^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$")
_TAG_RE = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$")
_ANY_DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
_UPLOAD_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_NAME = 255  # distribution's limit on the whole name

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("upload_start", re.compile(r"^/v2/(?P<name>.+)/blobs/uploads/?$")),
    ("upload", re.compile(r"^/v2/(?P<name>.+)/blobs/uploads/(?P<ref>[^/]+)$")),
    ("blob", re.compile(r"^/v2/(?P<name>.+)/blobs/(?P<ref>[^/]+)$")),
    ("manifest", re.compile(r"^/v2/(?P<name>.+)/manifests/(?P<ref>[^/]+)$")),
    ("tags", re.compile(r"^/v2/(?P<name>.+)/tags/list$")),
    ("referrers", re.compile(r"^/v2/(?P<name>.+)/referrers/(?P<ref>[^/]+)$")),
)

_METHODS: dict[str, tuple[str, ...]] = {
    "base": ("GET", "HEAD"),
    "catalog": ("GET",),
    "tags": ("GET",),
    "manifest": ("GET", "HEAD", "PUT", "DELETE"),
    "upload_start": ("POST",),
    "upload": ("GET", "PATCH", "PUT", "DELETE"),
    "blob": ("GET", "HEAD", "DELETE"),
    "referrers": ("GET",),
    "token": ("GET", "POST"),
    "metrics": ("GET",),
}


@dataclass(frozen=True, slots=True)
class Route:
    endpoint: str
    name: str = ""  # repository name, "" for registry-wide endpoints
    reference: str = ""  # tag, digest or upload id, as the endpoint says
    actions: tuple[str, ...] = ()  # what the caller needs on ``name``

    @property
    def is_digest_reference(self) -> bool:
        return is_digest(self.reference)


def is_valid_name(name: str) -> bool:
    return len(name) <= MAX_NAME and bool(_NAME_RE.match(name))


def is_valid_tag(tag: str) -> bool:
    return bool(_TAG_RE.match(tag))


def check_digest(value: str) -> str:
    """Return ``value`` if it is a digest we support; DIGEST_INVALID (400) or UNSUPPORTED otherwise."""
    if is_digest(value):
        return value
    if _ANY_DIGEST_RE.match(value) and not value.startswith("sha256:"):
        raise RegistryError(codes.UNSUPPORTED, f"digest algorithm not supported: {value.split(':')[0]}")
    raise RegistryError(codes.DIGEST_INVALID, "invalid digest", detail={"digest": value})


def check_name(name: str) -> str:
    if not is_valid_name(name):
        raise RegistryError(codes.NAME_INVALID, "invalid repository name", detail={"name": name})
    return name


def required_actions(endpoint: str, method: str) -> tuple[str, ...]:
    """The token-spec actions a request needs on its repository."""
    if endpoint in ("base", "catalog", "token", "metrics"):
        return ()
    if method == "DELETE" and endpoint in ("manifest", "blob"):
        return ("delete",)
    if method in ("GET", "HEAD"):
        return ("pull",)
    # Uploads are read back (status, mount), so pushing also needs pull (as in distribution).
    return ("pull", "push")


def route(method: str, path: str) -> Route:
    """Resolve a request; RegistryError (404/405/400) when it cannot be served."""
    endpoint, name, ref = _match(path)
    if method not in _METHODS[endpoint]:
        raise RegistryError(codes.UNSUPPORTED, f"method {method} not allowed on {endpoint}")
    if name:
        check_name(name)
    if endpoint in ("blob", "referrers"):
        check_digest(ref)
    elif endpoint == "manifest":
        if ":" in ref:
            check_digest(ref)
        elif not is_valid_tag(ref):
            raise RegistryError(codes.MANIFEST_INVALID, "invalid tag", detail={"tag": ref})
    elif endpoint == "upload" and not _UPLOAD_ID_RE.match(ref):
        raise RegistryError(codes.BLOB_UPLOAD_UNKNOWN)
    return Route(endpoint, name, ref, required_actions(endpoint, method))


def _match(path: str) -> tuple[str, str, str]:
    if path in ("/v2", "/v2/"):
        return "base", "", ""
    if path in ("/v2/_catalog", "/v2/_catalog/"):
        return "catalog", "", ""
    if path == "/token":
        return "token", "", ""
    if path == "/metrics":
        return "metrics", "", ""
    if path.startswith("/v2/"):
        for endpoint, pattern in _PATTERNS:
            m = pattern.match(path)
            if m:
                return endpoint, m.group("name"), m.groupdict().get("ref") or ""
    raise RegistryError(codes.NOT_FOUND, f"no route for {path}")
