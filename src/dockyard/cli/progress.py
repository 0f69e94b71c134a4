"""Render a JSON progress stream (pull, push) as the docker CLI does.

On a terminal each layer id keeps its own line, rewritten in place with
cursor movement (moby ``jsonmessage.DisplayJSONMessagesStream``); elsewhere
plain status lines are printed and progress bars are skipped.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from dockyard.errors import EngineError

# Annotations only: importing typing costs the CLI ~3 ms per command.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TextIO


class StreamError(EngineError):
    """An error the daemon sent in-band, after streaming had started."""


def _human(size: float) -> str:
    from dockyard.wire.humanize import human_size

    return human_size(size, 4)


def bar(detail: dict[str, Any], width: int, start: float | None, now: float) -> str:
    """moby ``JSONProgress.String()`` for the given terminal width."""
    current = int(detail.get("current") or 0)
    total = int(detail.get("total") or 0)
    if current <= 0 and total <= 0:
        return ""
    if total <= 0:
        return "%8s" % _human(current)
    pct = min(50, int(current / total * 100) // 2)
    box = "[" + "=" * pct + ">" + " " * max(0, 50 - pct) + "] " if width > 110 else ""
    numbers = "%8s/%s" % (_human(current), _human(total)) if current <= total else "%8s" % _human(current)
    left = ""
    if 0 < current < total and width > 50 and start is not None and now > start:
        secs = int((now - start) / current * (total - current))
        h, rest = divmod(secs, 3600)
        m, s = divmod(rest, 60)
        left = " " + (f"{h}h{m}m{s}s" if h else f"{m}m{s}s" if m else f"{s}s")
    return box + numbers + left


def display(messages: Iterable[dict[str, Any]], out: TextIO, *, tty: bool, width: int = 80) -> list[dict[str, Any]]:
    """Write the stream; return the ``aux`` objects; raise StreamError on an in-band error."""
    ids: dict[str, int] = {}
    starts: dict[str, float] = {}
    auxes: list[dict[str, Any]] = []
    for msg in messages:
        err = msg.get("errorDetail") or {}
        if msg.get("error") or (isinstance(err, dict) and err.get("message")):
            raise StreamError(str((err.get("message") if isinstance(err, dict) else "") or msg.get("error")))
        if "aux" in msg:
            if isinstance(msg["aux"], dict):
                auxes.append(msg["aux"])
            continue
        mid = str(msg.get("id") or "")
        has_progress = "progressDetail" in msg
        diff = 0
        if mid and has_progress:
            if mid not in ids:
                ids[mid] = len(ids)
                if tty:
                    out.write("\n")
            diff = len(ids) - ids[mid]
            if tty:
                out.write(f"\x1b[{diff}A")
        else:
            ids = {}
        _line(msg, out, tty, width, starts)
        if mid and tty and has_progress:
            out.write(f"\x1b[{diff}B")
        out.flush()
    return auxes


def _line(msg: dict[str, Any], out: TextIO, tty: bool, width: int, starts: dict[str, float]) -> None:
    detail = msg.get("progressDetail")
    status = str(msg.get("status") or "")
    mid = str(msg.get("id") or "")
    endl = ""
    text = ""
    if isinstance(detail, dict):
        key = mid + status
        if detail.get("total"):
            starts.setdefault(key, time.time())
        text = bar(detail, width, starts.get(key), time.time())
    if tty and "stream" not in msg and isinstance(detail, dict):
        out.write("\x1b[2K\r")
        endl = "\r"
    elif text:
        return  # no progress bars off a terminal
    if mid:
        out.write(f"{mid}: ")
    if tty and isinstance(detail, dict):
        out.write(f"{status} {text}{endl}")
    elif "stream" in msg:
        out.write(f"{msg['stream']}{endl}")
    else:
        out.write(f"{status}{endl}\n")


__all__ = ["StreamError", "bar", "display"]
