"""Progress of long operations (pull, push), as values a sink receives.

Services report; only the API layer turns reports into Docker's JSON
progress messages (``wire.jsonmessage``).  A sink may be called from several
threads at once (layers download concurrently) and must be quick.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Progress:
    status: str  # "Downloading", "Pull complete", "Digest: sha256:..."
    id: str = ""  # short layer id, or the tag for "Pulling from ..."
    current: int = 0  # bytes so far, with total > 0 a progress bar
    total: int = 0
    aux: Mapping[str, Any] | None = None  # push's {"Tag":..., "Digest":..., "Size":...}


ProgressSink = Callable[[Progress], None]


def discard(_: Progress) -> None:
    """A sink that ignores everything."""


def short_id(digest: str) -> str:
    """The 12 hex characters Docker shows for a layer."""
    return digest.split(":", 1)[-1][:12]


__all__ = ["Progress", "ProgressSink", "discard", "short_id"]
