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


def progress(status: str, id: str = "", current: int = 0, total: int = 0, *, start: float = 0.0,
             now: float = 0.0) -> bytes:
    """A per-layer message as moby's progress formatter writes it.

    ``progressDetail`` is what the docker CLI draws its bars from; ``progress``
    is the bar pre-rendered at moby's default width (clients that print it).
    A status without counts ("Pull complete") still carries an empty
    ``progressDetail``, as Docker's does.
    """
    msg: dict[str, Any] = {"status": status}
    if current or total:
        detail: dict[str, Any] = {"current": current}
        if total:
            detail["total"] = total
        msg["progressDetail"] = detail
        msg["progress"] = progress_bar(current, total, start=start, now=now)
    else:
        msg["progressDetail"] = {}
    if id:
        msg["id"] = id
    return encode(msg)


def aux(obj: dict[str, Any]) -> bytes:
    """An ``aux`` message (push's ``{"Tag", "Digest", "Size"}``)."""
    return encode({"progressDetail": {}, "aux": obj})


def progress_bar(current: int, total: int, *, start: float = 0.0, now: float = 0.0, width: int = 200) -> str:
    """moby ``JSONProgress.String()``: ``[=====>     ] 12.3MB/40MB 2s`` (bar only above 110 columns)."""
    from dockyard.wire.humanize import human_size

    if current <= 0 and total <= 0:
        return ""
    if total <= 0:
        return "%8s" % human_size(current, 4)
    pct = min(50, int(current / total * 100) // 2)
    bar = ""
    if width > 110:
        bar = "[" + "=" * pct + ">" + " " * max(0, 50 - pct) + "] "
    numbers = "%8s/%s" % (human_size(current, 4), human_size(total, 4))
    if current > total:
        numbers = "%8s" % human_size(current, 4)
    left = ""
    if 0 < current < total and start and now > start and width > 50:
        remaining = int((now - start) / current * (total - current))
        left = " " + _go_duration(remaining)
    return bar + numbers + left


def _go_duration(seconds: int) -> str:
    """Go's time.Duration.String() for whole seconds: ``1m5s``, ``2h0m0s``, ``0s``."""
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h}h{m}m{s}s"
    if m:
        return f"{m}m{s}s"
    return f"{s}s"


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
