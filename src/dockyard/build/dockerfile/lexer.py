"""Dockerfile text -> logical lines (pure).

Theory of operation (Docker's documented grammar, moby/buildkit
``frontend/dockerfile/parser``):

1. *Parser directives* (``# syntax=``, ``# escape=``, ``# check=``) are read
   only at the very top; the first line that is not a known directive ends
   them, so a directive further down is an ordinary comment.
2. A line whose first non-blank character is ``#`` is a comment; ``#``
   anywhere else is literal text.
3. A line ending in the escape character (optionally followed by blanks)
   continues on the next line; comment lines and empty lines inside a
   continuation are dropped.
4. ``RUN``, ``COPY`` and ``ADD`` may carry heredocs (``<<EOF``, ``<<-EOF``,
   ``<<"EOF"``): the following lines up to the terminator are its body.

Every logical line keeps the number of its first physical line, so errors
can say ``Dockerfile:7: ...``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dockyard.errors import InvalidArgument

DIRECTIVES = ("syntax", "escape", "check")
_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_HEREDOC = re.compile(r"(?<![<\w])\d*<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_.-]*)\2")
HEREDOC_INSTRUCTIONS = ("run", "copy", "add")


class DockerfileError(InvalidArgument):
    """A Dockerfile that does not parse; the message names file and line."""

    def __init__(self, filename: str, line: int, message: str) -> None:
        super().__init__(f"{filename}:{line}: {message}")
        self.filename = filename
        self.line = line
        self.reason = message


@dataclass(frozen=True, slots=True)
class Heredoc:
    name: str
    body: str  # lines up to the terminator, each ending in "\n"
    expand: bool  # False when the name was quoted: no variable substitution
    chomp: bool  # "<<-": leading tabs were stripped from the body


@dataclass(frozen=True, slots=True)
class Line:
    number: int  # 1-based, the first physical line
    text: str  # continuations joined, escape + newline removed
    heredocs: tuple[Heredoc, ...] = ()


@dataclass(slots=True)
class Lexed:
    directives: dict[str, str] = field(default_factory=dict)
    lines: list[Line] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. ignored directives

    @property
    def escape(self) -> str:
        return self.directives.get("escape", "\\")


def lex(text: str, filename: str = "Dockerfile") -> Lexed:
    """Split ``text`` into directives and logical lines (see the module docstring)."""
    out = Lexed()
    physical = text.replace("\r\n", "\n").split("\n")
    if physical and physical[0].startswith("\ufeff"):
        physical[0] = physical[0][1:]
    i = 0
    while i < len(physical):
        m = _DIRECTIVE.match(physical[i])
        if not m or m.group(1).lower() not in DIRECTIVES:
            break
        key, value = m.group(1).lower(), m.group(2)
        if key in out.directives:
            raise DockerfileError(filename, i + 1, f"only one {key} parser directive can be used")
        if key == "escape" and value not in ("\\", "`"):
            raise DockerfileError(filename, i + 1, f"invalid escape token '{value}' does not match ` or \\")
        out.directives[key] = value
        if key != "escape":
            out.notes.append(f"{filename}:{i + 1}: '# {key}=' directive ignored (Dockyard has one built-in frontend)")
        i += 1
    cont = re.compile(re.escape(out.escape) + r"[ \t]*$")
    while i < len(physical):
        raw = physical[i]
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        start = i
        parts: list[str] = []
        while True:
            line = physical[i]
            i += 1
            m = cont.search(line)
            if not m:
                parts.append(line)
                break
            parts.append(line[: m.start()])
            # skip comments and blank lines inside the continuation
            while i < len(physical) and (not physical[i].strip() or physical[i].lstrip().startswith("#")):
                i += 1
            if i >= len(physical):
                break
        logical = "".join(parts).strip()
        heredocs: list[Heredoc] = []
        if logical.split(None, 1)[0].lower() in HEREDOC_INSTRUCTIONS:
            for hm in _HEREDOC.finditer(logical):
                chomp, quote, name = hm.group(1) == "-", hm.group(2), hm.group(3)
                body: list[str] = []
                while True:
                    if i >= len(physical):
                        raise DockerfileError(filename, start + 1, f"unterminated heredoc {name}")
                    line = physical[i]
                    i += 1
                    check = line.lstrip("\t") if chomp else line
                    if check == name:
                        break
                    body.append((line.lstrip("\t") if chomp else line) + "\n")
                heredocs.append(Heredoc(name, "".join(body), expand=not quote, chomp=chomp))
        out.lines.append(Line(start + 1, logical, tuple(heredocs)))
    return out
