"""Blob upload sessions as a pure state machine, and the HTTP ranges they use.

Theory of operation (distribution-spec "Pushing blobs"): ``POST`` opens a
session at offset 0; each ``PATCH`` must start exactly at the session's
offset (else 416) and moves it forward by what was received, even when the
connection dropped mid-body, so a client can ask ``GET`` for the offset and
resume; ``PUT ?digest=`` closes it (the digest is verified by the content
store); ``DELETE`` cancels it.  A session untouched for ``ttl`` seconds is
expired.  Every step is a function from a session (and request facts) to a
new session or a ``RegistryError``; the bytes themselves are written by the
caller.

    OPEN --patch--> OPEN --put--> DONE
      \\--delete / expire--> CANCELLED
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from . import codes
from .codes import RegistryError

OPEN, DONE, CANCELLED = "open", "done", "cancelled"

_CONTENT_RANGE_RE = re.compile(r"^(?:bytes[ =])?(\d+)-(\d+)$")
_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True, slots=True)
class UploadSession:
    id: str
    name: str  # repository
    offset: int = 0  # bytes received so far
    started_at: float = 0.0
    touched_at: float = 0.0
    state: str = OPEN

    @property
    def range_header(self) -> str:
        """The ``Range`` value reporting what was received (``0-<last byte>``; ``0-0`` when empty)."""
        return f"0-{max(self.offset - 1, 0)}"

    def is_expired(self, now: float, ttl: float) -> bool:
        return self.state == OPEN and now - self.touched_at > ttl


def start(id_: str, name: str, now: float) -> UploadSession:
    return UploadSession(id_, name, 0, now, now)


def _require_open(s: UploadSession) -> None:
    if s.state != OPEN:
        raise RegistryError(codes.BLOB_UPLOAD_UNKNOWN, "upload is closed", detail={"id": s.id})


def check_patch(s: UploadSession, content_range: str | None, content_length: int | None) -> int | None:
    """Validate a PATCH before reading its body; returns the chunk length if known.

    ``Content-Range: <start>-<end>`` must begin at the current offset, else 416
    (the client then asks for the status and resumes).
    """
    _require_open(s)
    if content_range is None:
        return content_length  # streamed upload: the body runs to its end
    m = _CONTENT_RANGE_RE.match(content_range.strip())
    if not m:
        raise RegistryError(codes.RANGE_INVALID, "malformed Content-Range", detail={"range": content_range})
    first, last = int(m.group(1)), int(m.group(2))
    if first != s.offset or last < first:
        raise RegistryError(codes.RANGE_INVALID, f"chunk must start at offset {s.offset}",
                            detail={"range": content_range, "offset": s.offset})
    length = last - first + 1
    if content_length is not None and content_length != length:
        raise RegistryError(codes.SIZE_INVALID, "Content-Length does not match Content-Range",
                            detail={"range": content_range, "length": content_length})
    return length


def received(s: UploadSession, n: int, now: float) -> UploadSession:
    """The session after ``n`` more bytes were written (also after a partial body)."""
    _require_open(s)
    return replace(s, offset=s.offset + n, touched_at=now)


def check_put(s: UploadSession, digest_param: str | None) -> str:
    """Validate the closing PUT; returns the expected digest (checked again by the store)."""
    _require_open(s)
    if not digest_param:
        raise RegistryError(codes.DIGEST_INVALID, "the digest query parameter is required")
    return digest_param


def finish(s: UploadSession, now: float) -> UploadSession:
    _require_open(s)
    return replace(s, state=DONE, touched_at=now)


def cancel(s: UploadSession, now: float) -> UploadSession:
    _require_open(s)
    return replace(s, state=CANCELLED, touched_at=now)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """A GET ``Range`` header as an inclusive (first, last) within ``size``; None for the whole blob.

    Only one ``bytes=`` range is served (RFC 9110 lets a server ignore the rest);
    an unsatisfiable one raises 416.
    """
    if not header:
        return None
    m = _RANGE_RE.match(header.strip())
    if not m or (not m.group(1) and not m.group(2)):
        return None  # other units or several ranges: answer with the whole blob
    if not m.group(1):  # suffix: the last N bytes
        n = int(m.group(2))
        if n == 0 or size == 0:
            raise RegistryError(codes.RANGE_INVALID, detail={"size": size})
        return max(size - n, 0), size - 1
    first = int(m.group(1))
    last = int(m.group(2)) if m.group(2) else size - 1
    if first >= size or last < first:
        raise RegistryError(codes.RANGE_INVALID, detail={"size": size})
    return first, min(last, size - 1)
