"""Build cache keys (pure).

A step's key is a digest over the key of the state it starts from, the
instruction after substitution, the build args in effect, and a digest of
its inputs (COPY/ADD sources: names, modes, owners, contents).  The key of a
``FROM`` state is the base image id, so a rebuilt base invalidates
everything above it.  Keys chain, so equal keys mean equal histories.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any


def base_key(image_id: str, platform: str = "") -> str:
    return _digest({"from": image_id, "platform": platform})


def step_key(parent: str, instruction: str, args: Mapping[str, str] | None = None, inputs: str = "",
             extra: Mapping[str, Any] | None = None) -> str:
    """The key of the state a step produces (see the module docstring)."""
    return _digest({"parent": parent, "instruction": instruction, "args": sorted((args or {}).items()),
                    "inputs": inputs, "extra": extra or {}})


def inputs_key(entries: Sequence[tuple[Any, ...]]) -> str:
    """Digest of input descriptions (``(dest, mode, uid, gid, type, link, content digest)`` tuples)."""
    return _digest([list(e) for e in entries])


def _digest(obj: Any) -> str:
    return "sha256:" + hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
