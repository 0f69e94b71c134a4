"""Requests and responses as the handlers see them (no HTTP library here).

``server.py`` turns h11 events into a ``Request`` and writes whichever
response kind a handler returns:

* ``Response``: a whole body (JSON helpers included).
* ``StreamResponse``: headers go out at once, then each chunk as produced
  (chunked encoding).  ``wait`` relies on this: Docker flushes 200 headers
  before blocking.
* ``HijackResponse``: the connection leaves HTTP; ``run`` gets the raw
  stream (attach).  Validate everything *before* returning one, so errors
  still get a proper status.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

from dockyard.errors import InvalidArgument

_FALSE = {"", "0", "no", "false", "none"}  # moby httputils.BoolValue


@dataclass(slots=True)
class Request:
    method: str
    path: str  # percent-decoded, without the /v1.NN prefix
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: BinaryIO
    api_version: str
    params: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def wants_upgrade(self) -> bool:
        """``Upgrade: tcp`` + ``Connection: Upgrade``: the client asks to hijack."""
        conn = {t.strip().lower() for t in (self.header("connection") or "").split(",")}
        return "upgrade" in conn and (self.header("upgrade") or "").lower() == "tcp"

    def query_str(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def query_bool(self, name: str, default: bool = False) -> bool:
        value = self.query_str(name)
        if value is None:
            return default
        return value.strip().lower() not in _FALSE

    def query_int(self, name: str, default: int = 0) -> int:
        value = self.query_str(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except ValueError:
            raise InvalidArgument(f"invalid value for {name}: {value!r}: not an integer") from None

    def json_body(self, *, required: bool = True) -> Any:
        """Decode the JSON body; bad JSON is InvalidArgument (400)."""
        data = self.body.read()
        if not data.strip():
            if required:
                raise InvalidArgument("invalid JSON: request body is empty")
            return None
        try:
            return json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidArgument(f"invalid JSON: {exc}") from exc


@dataclass(slots=True)
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def json(cls, obj: Any, status: int = 200) -> Response:
        return cls(status=status, body=json.dumps(obj).encode() + b"\n")

    @classmethod
    def empty(cls, status: int = 204) -> Response:
        return cls(status=status, content_type=None)


@dataclass(slots=True)
class StreamResponse:
    chunks: Iterable[bytes]
    status: int = 200
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)


RAW_STREAM = "application/vnd.docker.raw-stream"
MULTIPLEXED_STREAM = "application/vnd.docker.multiplexed-stream"


class RawConnection(Protocol):
    """The hijacked socket, with bytes the HTTP parser had already read."""

    def recv(self, n: int = 65536) -> bytes:
        """Next bytes from the client; b"" once it closed its side."""
        ...

    def sendall(self, data: bytes) -> None: ...

    def wait_hangup(self, timeout: float) -> bool:
        """After recv() returned b"": True once the peer fully closed."""
        ...


@dataclass(slots=True)
class HijackResponse:
    run: Callable[[RawConnection], None]
    content_type: str = RAW_STREAM
    # A protocol switch of its own (websocket attach): this status line and these headers
    # instead of Docker's ``101 UPGRADED`` / ``Upgrade: tcp``.
    switch: tuple[str, list[tuple[str, str]]] | None = None
