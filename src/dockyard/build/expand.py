"""Variable substitution and word splitting as Docker's builder does it (pure).

Docker applies this to ADD, COPY, ENV, EXPOSE, FROM, LABEL, STOPSIGNAL,
USER, VOLUME, WORKDIR, ARG and ONBUILD-triggered lines; RUN, CMD and
ENTRYPOINT are left to the shell.  Rules (moby/buildkit
``frontend/dockerfile/shell/lex.go``):

* ``$VAR`` and ``${VAR}``; an unset variable is empty;
* ``${VAR:-word}`` (word if unset or empty), ``${VAR-word}`` (if unset),
  ``${VAR:+word}`` / ``${VAR+word}`` (word if set), ``${VAR:?msg}`` /
  ``${VAR?msg}`` (error if unset); ``word`` is itself expanded;
* single quotes keep everything literal; double quotes expand but keep
  blanks; the escape character (``\\`` or the ``# escape=`` one) makes the
  next character literal (inside double quotes only before ``"``, ``$`` and
  itself); quotes are removed from the result.
"""

from __future__ import annotations

from collections.abc import Mapping

from dockyard.errors import InvalidArgument

_BLANKS = " \t\r\n"


class SubstitutionError(InvalidArgument):
    pass


def word(text: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """``text`` as one word: quotes removed, variables expanded, blanks kept."""
    return _Lexer(text, env, escape).run(split=False)[0] if text else ""


def words(text: str, env: Mapping[str, str], escape: str = "\\") -> list[str]:
    """``text`` split on unquoted blanks, each word expanded (``EXPOSE 80 $PORT``)."""
    return _Lexer(text, env, escape).run(split=True)


def split_raw(text: str, escape: str = "\\") -> list[str]:
    """Split on unquoted blanks keeping quotes and escapes (the parser's view of ``k="a b" c=d``)."""
    out: list[str] = []
    cur: list[str] = []
    quote = ""
    i = 0
    while i < len(text):
        c = text[i]
        if c == escape and quote != "'" and i + 1 < len(text):
            cur.append(c + text[i + 1])
            i += 2
            continue
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c in _BLANKS:
            if cur:
                out.append("".join(cur))
                cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    if cur:
        out.append("".join(cur))
    return out


class _Lexer:
    def __init__(self, text: str, env: Mapping[str, str], escape: str) -> None:
        self.text = text
        self.env = env
        self.esc = escape
        self.pos = 0

    def _peek(self, k: int = 0) -> str:
        p = self.pos + k
        return self.text[p] if p < len(self.text) else ""

    def run(self, split: bool, stop: str = "") -> list[str]:
        out: list[str] = []
        cur: list[str] = []
        started = False
        while self.pos < len(self.text):
            c = self.text[self.pos]
            if stop and c in stop:
                break
            if split and c in _BLANKS:
                if started:
                    out.append("".join(cur))
                    cur, started = [], False
                self.pos += 1
                continue
            started = True
            if c == self.esc:
                self.pos += 1
                if self.pos < len(self.text):
                    cur.append(self.text[self.pos])
                    self.pos += 1
            elif c == "'":
                cur.append(self._single())
            elif c == '"':
                cur.append(self._double())
            elif c == "$":
                cur.append(self._dollar())
            else:
                cur.append(c)
                self.pos += 1
        if started or not split:
            out.append("".join(cur))
        return out

    def _single(self) -> str:
        end = self.text.find("'", self.pos + 1)
        if end < 0:
            raise SubstitutionError("unexpected end of statement while looking for matching single-quote")
        value = self.text[self.pos + 1 : end]
        self.pos = end + 1
        return value

    def _double(self) -> str:
        self.pos += 1
        out: list[str] = []
        while True:
            if self.pos >= len(self.text):
                raise SubstitutionError("unexpected end of statement while looking for matching double-quote")
            c = self.text[self.pos]
            if c == '"':
                self.pos += 1
                return "".join(out)
            if c == self.esc:
                nxt = self._peek(1)
                if nxt in ('"', "$", self.esc):
                    out.append(nxt)
                    self.pos += 2
                    continue
                out.append(c)
                self.pos += 1
            elif c == "$":
                out.append(self._dollar())
            else:
                out.append(c)
                self.pos += 1

    def _name(self) -> str:
        start = self.pos
        if self._peek().isdigit():
            self.pos += 1
            return self.text[start : self.pos]
        while self.pos < len(self.text) and (self.text[self.pos].isalnum() or self.text[self.pos] == "_"):
            self.pos += 1
        return self.text[start : self.pos]

    def _dollar(self) -> str:
        self.pos += 1  # "$"
        if self._peek() == "{":
            return self._braced()
        name = self._name()
        if not name:
            return "$"
        return self.env.get(name, "")

    def _braced(self) -> str:
        self.pos += 1  # "{"
        name = self._name()
        if not name:
            raise SubstitutionError(f"bad substitution: {self.text}")
        c = self._peek()
        if c == "}":
            self.pos += 1
            return self.env.get(name, "")
        colon = c == ":"
        if colon:
            self.pos += 1
            c = self._peek()
        if c not in ("-", "+", "?"):
            raise SubstitutionError(f"unsupported modifier ({c}) in substitution: {self.text}")
        self.pos += 1
        arg = "".join(self.run(split=False, stop="}"))
        if self._peek() != "}":
            raise SubstitutionError(f"missing '}}' in substitution: {self.text}")
        self.pos += 1
        value = self.env.get(name)
        is_set = value is not None and (value != "" or not colon)
        if c == "-":
            return value if is_set else arg  # type: ignore[return-value]
        if c == "+":
            return arg if is_set else ""
        if not is_set:
            raise SubstitutionError(f"{name}: {arg or 'is not allowed to be unset'}")
        return value  # type: ignore[return-value]
