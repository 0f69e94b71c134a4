"""``.env`` / ``--env-file`` / ``env_file:`` parsing (pure), Compose's dotenv dialect."""

from __future__ import annotations

from dockyard.errors import InvalidArgument

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


def parse(text: str, source: str = ".env") -> dict[str, str]:
    """``KEY=VALUE`` lines; ``export`` prefix, comments, single/double quotes, inline ``#`` after a space."""
    out: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        raw = lines[i]
        i += 1
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[7:].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not key or any(c.isspace() for c in key):
            raise InvalidArgument(f"{source}:{i}: unexpected character in variable name {raw!r}")
        if not sep:
            continue  # a bare name: nothing to set here (env_file takes it from the environment)
        value = value.strip()
        if value[:1] in ('"', "'"):
            quote = value[0]
            body = value[1:]
            while _close_quote(body, quote) == len(body):
                if i >= len(lines):
                    raise InvalidArgument(f"{source}:{i}: unterminated quoted value for {key}")
                body += "\n" + lines[i]
                i += 1
            end = _close_quote(body, quote)
            inner = body[:end]
            value = _unescape(inner) if quote == '"' else inner
        else:
            hash_at = value.find(" #")
            if hash_at >= 0:
                value = value[:hash_at].rstrip()
        out[key] = value
    return out


def _close_quote(body: str, quote: str) -> int:
    i = 0
    while i < len(body):
        if quote == '"' and body[i] == "\\":
            i += 2
            continue
        if body[i] == quote:
            return i
        i += 1
    return len(body)


def _unescape(s: str) -> str:
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s) and s[i + 1] in _ESCAPES:
            out.append(_ESCAPES[s[i + 1]])
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)
