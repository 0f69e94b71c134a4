"""``.dockerignore`` patterns as Docker matches them (moby/patternmatcher), pure.

The client applies them when it packs the build context (the daemon gets
only what is left), so this sits in ``wire`` where both CLI and daemon can
read it.  Rules: one pattern a line; ``#`` lines are comments; a leading
``!`` re-includes; patterns are cleaned (``filepath.Clean``) and a leading
``/`` dropped; ``*`` and ``?`` never cross ``/``; ``**`` crosses any number
of directories; a pattern that matches a directory matches everything
below it; the last pattern that matches decides.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Pattern:
    text: str  # cleaned pattern
    exclusion: bool  # "!" pattern: re-include
    regex: re.Pattern[str]
    dirs: int  # separators in the pattern (to skip whole dirs safely)


def read_patterns(text: str) -> list[str]:
    """The patterns of a ``.dockerignore`` file, comments and blank lines dropped."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        out.append(line)
    return out


def compile_pattern(raw: str) -> Pattern:
    exclusion = raw.startswith("!")
    text = raw[1:].strip() if exclusion else raw
    text = posixpath.normpath(text) if text else text
    text = text.lstrip("/") or "."
    return Pattern(text, exclusion, _regex(text), text.count("/"))


def _regex(pattern: str) -> re.Pattern[str]:
    out = "^"
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if i + 1 < n and pattern[i + 1] == "*":
                i += 2
                if i < n and pattern[i] == "/":
                    i += 1
                if i >= n:
                    out += ".*" if out == "^" else "(/.*)?"
                else:
                    out += "(.*/)?"
                continue
            out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                out += re.escape(c)
            else:
                body = pattern[i + 1 : end]
                if body.startswith("^") or body.startswith("!"):
                    body = "^" + body[1:]
                out += "[" + body.replace("\\", "\\\\") + "]"
                i = end
        elif c == "\\" and i + 1 < n:
            i += 1
            out += re.escape(pattern[i])
        else:
            out += re.escape(c)
        i += 1
    return re.compile(out + "$")


class Matcher:
    """``matches(path)``: is this context path (relative, ``/``-separated) excluded?"""

    def __init__(self, patterns: list[str]) -> None:
        self.patterns = [compile_pattern(p) for p in patterns]
        self.has_exclusions = any(p.exclusion for p in self.patterns)

    def matches(self, path: str) -> bool:
        path = posixpath.normpath(path).lstrip("/")
        parents = _parents(path)
        matched = False
        for p in self.patterns:
            if p.exclusion != matched:
                continue  # cannot change the answer
            hit = bool(p.regex.match(path)) or any(p.regex.match(parent) for parent in parents)
            if hit:
                matched = not p.exclusion
        return matched

    def may_skip_dir(self, path: str) -> bool:
        """An excluded directory can be skipped whole unless a ``!`` pattern could re-include below it."""
        if not self.matches(path):
            return False
        if not self.has_exclusions:
            return True
        prefix = path.rstrip("/") + "/"
        for p in self.patterns:
            if p.exclusion and (p.text.startswith(prefix) or "*" in p.text or "?" in p.text or "[" in p.text):
                return False
        return True


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]
