"""Timestamps the way Docker writes them (RFC 3339 with nanoseconds, UTC)."""

from __future__ import annotations

import time
from datetime import datetime, timezone

ZERO_TIME = "0001-01-01T00:00:00Z"


def rfc3339_ns(ns: int | None = None) -> str:
    """``2026-11-28T08:40:09.123456789Z`` for ``ns`` nanoseconds since the epoch (default: now)."""
    if ns is None:
        ns = time.time_ns()
    secs, frac = divmod(ns, 1_000_000_000)
    base = datetime.fromtimestamp(secs, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{frac:09d}Z"


def parse_rfc3339(text: str) -> float:
    """Seconds since the epoch; 0.0 for Docker's zero time or an empty string."""
    if not text or text.startswith("0001-01-01"):
        return 0.0
    main, _, rest = text.partition(".")
    frac = "0"
    if rest:
        digits = ""
        for ch in rest:
            if not ch.isdigit():
                break
            digits += ch
        frac = digits or "0"
    main = main.rstrip("Z")
    dt = datetime.strptime(main[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return dt.timestamp() + float("0." + frac)
