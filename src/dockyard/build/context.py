"""Build context paths: Go ``filepath.Match`` wildcards for COPY/ADD sources, and safe lookups (pure).

Docker's classic builder walks the context and keeps every path that
``filepath.Match(pattern, path)`` accepts: ``*`` and ``?`` never cross
``/``, ``[...]`` is a class (``[^...]`` negated), ``\\`` escapes.  A source
without wildcards names one path (file or directory) and must exist.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator

from dockyard.errors import InvalidArgument, NotFound

_MAGIC = re.compile(r"[*?\[\\]")


def has_wildcards(pattern: str) -> bool:
    return bool(_MAGIC.search(pattern))


def go_match_regex(pattern: str) -> re.Pattern[str]:
    """Go ``filepath.Match`` as a regex; InvalidArgument for a malformed pattern (Go's ErrBadPattern)."""
    out, i, n = "", 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "[":
            end = pattern.find("]", i + 2 if i + 1 < n and pattern[i + 1] in "^!" else i + 1)
            if end < 0:
                raise InvalidArgument(f"syntax error in pattern: {pattern}")
            body = pattern[i + 1 : end]
            neg = body[:1] in ("^", "!")
            body = body[1:] if neg else body
            out += "[" + ("^" if neg else "") + body.replace("\\", "\\\\").replace("[", "\\[") + "]"
            i = end
        elif c == "\\":
            i += 1
            if i >= n:
                raise InvalidArgument(f"syntax error in pattern: {pattern}")
            out += re.escape(pattern[i])
        else:
            out += re.escape(c)
        i += 1
    return re.compile(out + r"\Z")


def clean(path: str) -> str:
    """A context-relative path: ``./a/../b/`` -> ``b``; ``..`` can never climb out of the context."""
    p = posixpath.normpath("/" + path).lstrip("/")
    return p or "."


def walk(root: str) -> Iterator[str]:
    """Every path under ``root``, relative, directories before their contents, sorted (no symlink following)."""
    stack = [""]
    while stack:
        rel = stack.pop()
        full = os.path.join(root, rel) if rel else root
        try:
            names = sorted(os.listdir(full), reverse=True)
        except OSError:
            continue
        for name in names:
            child = f"{rel}/{name}" if rel else name
            yield child
            if os.path.isdir(os.path.join(root, child)) and not os.path.islink(os.path.join(root, child)):
                stack.append(child)


def resolve_sources(root: str, pattern: str) -> list[str]:
    """Context paths ``pattern`` names (relative; "." for the whole context); NotFound if none."""
    cleaned = clean(pattern)
    if not has_wildcards(cleaned):
        if cleaned != "." and not os.path.lexists(os.path.join(root, cleaned)):
            raise NotFound(f"failed to compute cache key: \"/{cleaned}\": not found")
        return [cleaned]
    rx = go_match_regex(cleaned)
    depth = cleaned.count("/")
    found = [p for p in sorted(walk(root)) if p.count("/") == depth and rx.match(p)]
    if not found:
        raise NotFound(f"no source files were specified: {pattern} matches nothing in the build context")
    return found
