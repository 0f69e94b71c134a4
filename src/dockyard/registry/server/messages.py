"""What the HTTP driver hands the application and gets back (no HTTP library here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import BinaryIO, Protocol


class BodyReader(Protocol):
    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes; b"" at the end.  Raises ``ClientGone`` if the peer vanished."""
        ...


class ClientGone(Exception):
    """The peer closed or broke the connection while we read its body."""


@dataclass(slots=True)
class Request:
    method: str
    path: str  # decoded path, no query
    query: str  # raw query string
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: BodyReader
    base_url: str = "http://localhost"  # scheme://host as the client addressed us
    remote: str = ""


@dataclass(slots=True)
class FileBody:
    """Send ``length`` bytes of ``file`` from ``offset``; the driver closes the file."""

    file: BinaryIO
    offset: int
    length: int


@dataclass(slots=True)
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | FileBody = b""
    content_length: int | None = None  # for HEAD: the length a GET would send

    def length(self) -> int:
        if self.content_length is not None:
            return self.content_length
        return self.body.length if isinstance(self.body, FileBody) else len(self.body)
