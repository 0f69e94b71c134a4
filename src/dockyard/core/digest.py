"""Content digests: the ``"sha256:<64 hex>"`` value type and a streaming hasher.

Only sha256 is accepted; it is the only algorithm Docker images use in practice
and accepting others would mean trusting algorithms we never verify.
"""

from __future__ import annotations

import hashlib
import re
from typing import Sequence

from dockyard.errors import InvalidArgument

ALGORITHM = "sha256"
_DIGEST_RE = re.compile(r"^sha256:[a-f0-9]{64}$")
_HEX_RE = re.compile(r"^[a-f0-9]{64}$")


class Digest(str):
    """A validated ``sha256:<hex>`` string (a ``str``, so it serialises as one)."""

    __slots__ = ()

    def __new__(cls, value: str) -> "Digest":
        if not isinstance(value, str) or not _DIGEST_RE.match(value):
            raise InvalidArgument(f"invalid digest {value!r}: expected sha256:<64 lowercase hex>")
        return super().__new__(cls, value)

    @classmethod
    def from_hex(cls, hex_: str) -> "Digest":
        return cls(f"{ALGORITHM}:{hex_}")

    @property
    def algorithm(self) -> str:
        return ALGORITHM

    @property
    def hex(self) -> str:  # type: ignore[override]  # str.hex is unrelated (bytes.hex style)
        return self[len(ALGORITHM) + 1 :]


def is_digest(value: str) -> bool:
    """True if ``value`` is a well-formed ``sha256:<64 hex>`` digest."""
    return bool(_DIGEST_RE.match(value))


def is_hex_id(value: str) -> bool:
    """True if ``value`` is 64 lowercase hex characters (a bare image/container id)."""
    return bool(_HEX_RE.match(value))


def parse(value: str) -> Digest:
    """Validate and return ``value`` as a Digest; raises InvalidArgument."""
    return Digest(value)


class Hasher:
    """Incremental sha256 that also counts bytes (size and digest are verified together)."""

    __slots__ = ("_h", "size")

    def __init__(self) -> None:
        self._h = hashlib.sha256()
        self.size = 0

    def update(self, data: bytes) -> None:
        self._h.update(data)
        self.size += len(data)

    def digest(self) -> Digest:
        return Digest.from_hex(self._h.hexdigest())


def of_bytes(data: bytes) -> Digest:
    """The digest of an in-memory blob."""
    return Digest.from_hex(hashlib.sha256(data).hexdigest())


def chain_id(diff_ids: Sequence[str]) -> str:
    """OCI ChainID of a layer stack (image-spec config.md "Layer ChainID").

    ChainID(L0) = DiffID(L0); ChainID(L0..Ln) = sha256(ChainID(L0..Ln-1) + " " + DiffID(Ln)).
    """
    if not diff_ids:
        return ""
    chain = diff_ids[0]
    for d in diff_ids[1:]:
        chain = of_bytes(f"{chain} {d}".encode())
    return chain
