"""``--since``/``--until`` values → the Unix timestamps the API takes (pure).

As docker's ``timetypes.GetTimestamp``: a Unix timestamp passes through; a
Go duration ("10m", "1h30s") is that long before now; an RFC 3339 date (or
``YYYY-MM-DD``, local time when no zone is given) is converted.
"""

from __future__ import annotations

import re
from datetime import datetime

from dockyard.wire.durations import parse_go_duration as go_duration
from dockyard.cli.commands import UsageError




def to_timestamp(value: str, now: float) -> str:
    """``"10m"`` → ``"1700000000.000000000"`` (seconds.nanoseconds)."""
    if re.fullmatch(r"\d+(\.\d{1,9})?", value):
        return value
    duration = go_duration(value)
    if duration is not None:
        ts = now - duration
    else:
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(f"dockyard: failed to parse time {value!r}") from None
        if dt.tzinfo is None:
            dt = dt.astimezone()
        ts = dt.timestamp()
    secs = int(ts)
    return f"{secs}.{int(round((ts - secs) * 1e9)):09d}"
