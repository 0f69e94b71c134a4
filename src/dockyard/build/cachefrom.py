"""``--cache-from IMAGE``: reuse the steps of an image's history (Docker's classic builder rule, pure).

moby's ``image/cache`` matches a step against a source image when the
state built so far is a *valid parent* of it -- its history entries
(timestamps included) and layer diff ids are a prefix of the source's --
and the source's next history entry was ``created_by`` the same command.
The step then takes that history entry and, unless the entry is an empty
layer, the source's next layer.  Entries restored this way keep the
source's timestamps, so the next step can match too (config-only steps
restore their entry for that reason alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Source:
    """A cache-from image: its history, layer diff ids and the blobs holding them (same order)."""

    history: tuple[dict[str, Any], ...]
    diff_ids: tuple[str, ...]
    blobs: tuple[str, ...]

    @classmethod
    def of(cls, config: dict[str, Any], blobs: Sequence[str]) -> "Source":
        return cls(tuple(config.get("history") or ()), tuple((config.get("rootfs") or {}).get("diff_ids") or ()),
                   tuple(blobs))


@dataclass(frozen=True, slots=True)
class Hit:
    entry: dict[str, Any]  # the history entry to append
    diff_id: str = ""  # "" for an empty layer
    blob: str = ""


def match(sources: Sequence[Source], history: Sequence[dict[str, Any]], diff_ids: Sequence[str],
          created_by: str) -> Hit | None:
    """The first source whose next step after (``history``, ``diff_ids``) was ``created_by``."""
    n = len(history)
    for src in sources:
        if len(src.history) <= n or len(src.diff_ids) < len(diff_ids):
            continue
        if list(src.history[:n]) != list(history) or list(src.diff_ids[:len(diff_ids)]) != list(diff_ids):
            continue
        entry = src.history[n]
        if entry.get("created_by", "") != created_by:
            continue
        if entry.get("empty_layer"):
            return Hit(dict(entry))
        i = len(diff_ids)
        if i >= len(src.diff_ids) or i >= len(src.blobs):
            continue
        return Hit(dict(entry), src.diff_ids[i], src.blobs[i])
    return None
