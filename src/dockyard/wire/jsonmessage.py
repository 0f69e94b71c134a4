"""Progress / status JSON message streams (load, pull, push, build).

Each message is one JSON object followed by ``\\r\\n``, as moby's
``pkg/streamformatter`` writes them.  An error once streaming has started is
sent in-band: ``{"errorDetail": {"message": m}, "error": m}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\r\n"


def stream(text: str) -> bytes:
    """A ``{"stream": text}`` message (e.g. ``Loaded image: busybox:latest\\n``)."""
    return encode({"stream": text})


def status(text: str, id: str | None = None) -> bytes:
    msg: dict[str, Any] = {"status": text}
    if id:
        msg["id"] = id
    return encode(msg)


def error(message: str, code: int | None = None) -> bytes:
    detail: dict[str, Any] = {"message": message}
    if code is not None:
        detail["code"] = code
    return encode({"errorDetail": detail, "error": message})


class MessageDecoder:
    """Incremental decoder: feed bytes, get one dict per complete JSON value.

    Messages are newline-delimited in practice, but some daemons concatenate
    objects without separators; ``raw_decode`` handles both.
    """

    def __init__(self) -> None:
        self._buf = ""
        self._raw = b""
        self._decoder = json.JSONDecoder()

    def feed(self, data: bytes) -> Iterator[dict[str, Any]]:
        self._raw += data
        try:
            self._buf += self._raw.decode()
            self._raw = b""
        except UnicodeDecodeError:
            return  # split multi-byte character: wait for more bytes
        while True:
            text = self._buf.lstrip()
            if not text:
                self._buf = ""
                return
            try:
                obj, end = self._decoder.raw_decode(text)
            except ValueError:
                self._buf = text
                return
            self._buf = text[end:]
            if isinstance(obj, dict):
                yield obj


def error_of(message: dict[str, Any]) -> str | None:
    """The error text of a message, if it carries one."""
    detail = message.get("errorDetail")
    if isinstance(detail, dict) and detail.get("message"):
        return str(detail["message"])
    if message.get("error"):
        return str(message["error"])
    return None
