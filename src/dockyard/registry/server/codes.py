"""Distribution-spec error codes and their JSON form, decided in one table.

Every failure a handler raises is a ``RegistryError`` carrying a ``Code``;
engine error kinds raised by lower layers (``dockyard.errors``) are mapped
to codes once, in ``from_engine_error``.  The body shape is the spec's
(distribution-spec "Error Codes")::

    {"errors": [{"code": "BLOB_UNKNOWN", "message": "...", "detail": ...}]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from dockyard import errors


@dataclass(frozen=True, slots=True)
class Code:
    name: str
    status: int
    message: str


BLOB_UNKNOWN = Code("BLOB_UNKNOWN", 404, "blob unknown to registry")
BLOB_UPLOAD_INVALID = Code("BLOB_UPLOAD_INVALID", 400, "blob upload invalid")
BLOB_UPLOAD_UNKNOWN = Code("BLOB_UPLOAD_UNKNOWN", 404, "blob upload unknown to registry")
DIGEST_INVALID = Code("DIGEST_INVALID", 400, "provided digest did not match uploaded content")
MANIFEST_BLOB_UNKNOWN = Code("MANIFEST_BLOB_UNKNOWN", 400, "manifest references a manifest or blob unknown to registry")
MANIFEST_INVALID = Code("MANIFEST_INVALID", 400, "manifest invalid")
MANIFEST_UNKNOWN = Code("MANIFEST_UNKNOWN", 404, "manifest unknown to registry")
NAME_INVALID = Code("NAME_INVALID", 400, "invalid repository name")
NAME_UNKNOWN = Code("NAME_UNKNOWN", 404, "repository name not known to registry")
SIZE_INVALID = Code("SIZE_INVALID", 400, "provided length did not match content length")
UNAUTHORIZED = Code("UNAUTHORIZED", 401, "authentication required")
DENIED = Code("DENIED", 403, "requested access to the resource is denied")
UNSUPPORTED = Code("UNSUPPORTED", 405, "the operation is unsupported")
TOOMANYREQUESTS = Code("TOOMANYREQUESTS", 429, "too many requests")
# Not in the spec's table but used by distribution for what the table lacks.
RANGE_INVALID = Code("BLOB_UPLOAD_INVALID", 416, "requested range not satisfiable")
NOT_FOUND = Code("NOT_FOUND", 404, "not found")
INTERNAL = Code("UNKNOWN", 500, "unknown error")

ALL: tuple[Code, ...] = (
    BLOB_UNKNOWN, BLOB_UPLOAD_INVALID, BLOB_UPLOAD_UNKNOWN, DIGEST_INVALID,
    MANIFEST_BLOB_UNKNOWN, MANIFEST_INVALID, MANIFEST_UNKNOWN, NAME_INVALID,
    NAME_UNKNOWN, SIZE_INVALID, UNAUTHORIZED, DENIED, UNSUPPORTED, TOOMANYREQUESTS,
)


class RegistryError(Exception):
    """A failure with its spec code; ``headers`` are added to the response (e.g. WWW-Authenticate)."""

    def __init__(self, code: Code, message: str = "", *, detail: Any = None,
                 headers: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message or code.message)
        self.code = code
        self.message = message or code.message
        self.detail = detail
        self.headers = headers or []

    @property
    def status(self) -> int:
        return self.code.status

    def body(self) -> bytes:
        entry: dict[str, Any] = {"code": self.code.name, "message": self.message}
        if self.detail is not None:
            entry["detail"] = self.detail
        return json.dumps({"errors": [entry]}).encode()


# Engine kinds that can escape the storage layer → the nearest spec code.
_KIND_CODES: tuple[tuple[type[errors.EngineError], Code], ...] = (
    (errors.DigestMismatch, DIGEST_INVALID),
    (errors.InvalidArgument, MANIFEST_INVALID),
    (errors.NotFound, NOT_FOUND),
    (errors.Unauthorized, UNAUTHORIZED),
    (errors.PermissionDenied, DENIED),
    (errors.Unavailable, TOOMANYREQUESTS),
    (errors.NotImplemented_, UNSUPPORTED),
)


def from_exception(exc: BaseException) -> RegistryError:
    """The RegistryError to answer with for any exception (unknown ones become 500)."""
    if isinstance(exc, RegistryError):
        return exc
    if isinstance(exc, errors.EngineError):
        for kind, code in _KIND_CODES:
            if isinstance(exc, kind):
                return RegistryError(code, exc.message or code.message)
    return RegistryError(INTERNAL)
