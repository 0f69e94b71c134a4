"""Detach keys: parse Docker's ``--detach-keys`` syntax, spot the sequence in a byte stream (sans-I/O).

``ctrl-p,ctrl-q`` (the default) → b"\\x10\\x11". Both the daemon (stdin of an
attach or exec) and the CLI (its raw terminal, as docker's CLI does) run an
``EscapeProxy`` over input: bytes pass through unchanged, except that a
partial match is held back until it either completes (detach; the held
bytes are dropped) or breaks (they are released) — moby's term.EscapeProxy.
"""

from __future__ import annotations

from dockyard.errors import InvalidArgument

DEFAULT = "ctrl-p,ctrl-q"
_CTRL_SPECIALS = {"@": 0, "[": 27, "\\": 28, "]": 29, "^": 30, "_": 31}


def parse(keys: str) -> bytes:
    """``"ctrl-p,ctrl-q"`` → ``b"\\x10\\x11"``; single characters stand for themselves (moby term.ToBytes)."""
    out = bytearray()
    for key in keys.split(","):
        k = key.strip()
        low = k.lower()
        if low.startswith("ctrl-") and len(k) == 6:
            c = low[5]
            if "a" <= c <= "z":
                out.append(ord(c) - ord("a") + 1)
            elif c in _CTRL_SPECIALS:
                out.append(_CTRL_SPECIALS[c])
            else:
                raise InvalidArgument(f"Invalid escape keys ({keys}) provided")
        elif len(k) == 1:
            out.append(ord(k))
        else:
            raise InvalidArgument(f"Invalid escape keys ({keys}) provided")
    if not out:
        raise InvalidArgument(f"Invalid escape keys ({keys}) provided")
    return bytes(out)


class EscapeProxy:
    """Feed input, get back what to forward; ``detached`` turns True once the sequence was typed."""

    def __init__(self, keys: bytes) -> None:
        self._keys = keys
        self._held = 0  # how many bytes of keys are matched (and held back)
        self.detached = False

    def feed(self, data: bytes) -> bytes:
        if self.detached or not self._keys:
            return b"" if self.detached else data
        out = bytearray()
        for i, b in enumerate(data):
            if b == self._keys[self._held]:
                self._held += 1
                if self._held == len(self._keys):
                    self.detached = True
                    return bytes(out)
                continue
            if self._held:
                out += self._keys[: self._held]  # a broken match: release what was held
                self._held = 0
                if b == self._keys[0]:
                    self._held = 1
                    continue
            out.append(b)
        return bytes(out)
