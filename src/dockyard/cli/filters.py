"""``--filter key=value`` flags → the ``filters`` query parameter (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from dockyard.cli.commands import UsageError
from dockyard.wire import filters


def encode_flags(values: Sequence[str]) -> str | None:
    """docker ``opts.FilterOpt``: each flag is ``key=value``; none → no parameter."""
    parsed: dict[str, list[str]] = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep:
            raise UsageError(f"dockyard: bad format of filter (expected name=value)")
        parsed.setdefault(key.strip().lower(), []).append(val.strip())
    return filters.encode(parsed) if parsed else None
