"""Filters of the ``prune`` endpoints: ``until``, ``label``, ``label!`` (pure).

``until`` takes what Docker takes: a Unix timestamp (``1700000000[.5]``), an
RFC 3339 date, or a Go duration (``10m``, ``1h30m``) counted back from now.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Callable, Mapping, Sequence

from dockyard.errors import InvalidArgument
from dockyard.wire.durations import parse_go_duration

KEYS = ("until", "label", "label!")



def parse_until(value: str, now: float) -> float:
    """Seconds since the epoch for an ``until`` value."""
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    duration = parse_go_duration(value)
    if duration is not None:
        return now - duration
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidArgument(f"invalid filter 'until={value}'") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def _label_holds(item: str, labels: Mapping[str, str]) -> bool:
    key, eq, value = item.partition("=")
    return key in labels and (not eq or labels[key] == value)


def compile(filters: Mapping[str, Sequence[str]], now: float) -> Callable[[float, Mapping[str, str]], bool]:
    """A predicate over (created seconds, labels)."""
    for key in filters:
        if key not in KEYS:
            raise InvalidArgument(f"invalid filter '{key}'")
    untils = [parse_until(v, now) for v in filters.get("until", ())]
    if len(untils) > 1:
        raise InvalidArgument("more than one until filter specified")
    until = untils[0] if untils else None
    want = list(filters.get("label", ()))
    reject = list(filters.get("label!", ()))

    def match(created: float, labels: Mapping[str, str]) -> bool:
        if until is not None and not created < until:
            return False
        if not all(_label_holds(item, labels) for item in want):
            return False
        if reject and any(_label_holds(item, labels) for item in reject):
            return False
        return True

    return match
