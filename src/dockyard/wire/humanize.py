"""Human-readable durations, sizes and container status (Docker's wording).

Shared by the daemon (``Status`` in ``/containers/json``) and the CLI
(``CREATED`` column).  Ports of go-units ``HumanDuration`` / ``HumanSize``
and moby ``container.State.String``; pure.
"""

from __future__ import annotations

_DECIMAL = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")


def human_duration(seconds: float) -> str:
    """go-units HumanDuration: 1 → "1 second", 90 → "About a minute"."""
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


def human_size(size: float, precision: int = 3) -> str:
    """go-units HumanSizeWithPrecision (decimal): 4261550 → "4.26MB"."""
    i = 0
    while size >= 1000.0 and i < len(_DECIMAL) - 1:
        size /= 1000.0
        i += 1
    return "%.*g%s" % (precision, size, _DECIMAL[i])


def status_text(
    *,
    running: bool,
    paused: bool = False,
    restarting: bool = False,
    dead: bool = False,
    removing: bool = False,
    exit_code: int = 0,
    started_at: float | None,
    finished_at: float | None,
    now: float,
    health: str = "",
) -> str:
    """moby State.String: "Up 3 seconds", "Exited (0) 5 seconds ago", "Created"."""
    if running:
        if paused:
            return f"Up {human_duration(now - (now if started_at is None else started_at))} (Paused)"
        if restarting:
            return f"Restarting ({exit_code}) {human_duration(now - (now if finished_at is None else finished_at))} ago"
        suffix = f" ({health})" if health else ""
        return f"Up {human_duration(now - (now if started_at is None else started_at))}{suffix}"
    if removing:
        return "Removal In Progress"
    if dead:
        return "Dead"
    if not started_at:
        return "Created"
    if not finished_at:
        return ""
    return f"Exited ({exit_code}) {human_duration(now - finished_at)} ago"


_BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")


def bytes_size(size: float) -> str:
    """go-units BytesSize (binary): 8072888320 → "7.518GiB"."""
    i = 0
    while size >= 1024.0 and i < len(_BINARY) - 1:
        size /= 1024.0
        i += 1
    return "%.4g%s" % (size, _BINARY[i])
