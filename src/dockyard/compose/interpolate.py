"""Compose variable interpolation (pure): ``$VAR ${VAR} ${VAR:-d} ${VAR-d} ${VAR:?e} ${VAR?e} ${VAR:+r} ${VAR+r} $$``.

Applied to every string value of a parsed file (never to keys), before
merging, as the Compose Specification says. Defaults and replacements may
themselves contain ``${...}`` (nested), as in Docker Compose v2.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from dockyard.errors import InvalidArgument

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class MissingRequired(InvalidArgument):
    """``${VAR:?message}`` with VAR unset (or empty)."""


def _closing(text: str, start: int) -> int:
    """Index of the ``}`` closing the ``${`` whose body starts at ``start`` (nesting aware)."""
    depth = 1
    i = start
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise InvalidArgument(f"invalid interpolation format for {text!r}: missing closing brace")


def interpolate(text: str, env: Mapping[str, str], warn: Callable[[str], None] | None = None) -> str:
    """Substitute variables in ``text`` from ``env``; unset names become "" (with a warning)."""
    if "$" not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c != "$":
            out.append(c)
            i += 1
            continue
        if text.startswith("$$", i):
            out.append("$")
            i += 2
            continue
        if text.startswith("${", i):
            end = _closing(text, i + 2)
            out.append(_braced(text[i + 2:end], text, env, warn))
            i = end + 1
            continue
        m = _NAME.match(text, i + 1)
        if m is None:
            raise InvalidArgument(f"invalid interpolation format for {text!r}: a '$' must be followed by a "
                                  "variable name or '{'; use '$$' for a literal '$'")
        out.append(_lookup(m.group(), env, warn))
        i = m.end()
    return "".join(out)


def _lookup(name: str, env: Mapping[str, str], warn: Callable[[str], None] | None) -> str:
    if name in env:
        return env[name]
    if warn is not None:
        warn(f'The "{name}" variable is not set. Defaulting to a blank string.')
    return ""


def _braced(body: str, whole: str, env: Mapping[str, str], warn: Callable[[str], None] | None) -> str:
    m = _NAME.match(body)
    if m is None:
        raise InvalidArgument(f"invalid interpolation format for {whole!r}: invalid variable name in '${{{body}}}'")
    name, rest = m.group(), body[m.end():]
    if not rest:
        return _lookup(name, env, warn)
    for op in (":-", ":?", ":+", "-", "?", "+"):
        if rest.startswith(op):
            arg = rest[len(op):]
            break
    else:
        raise InvalidArgument(f"invalid interpolation format for {whole!r}: unexpected {rest!r} in '${{{body}}}'")
    value = env.get(name)
    unset = value is None or (op.startswith(":") and value == "")
    if op in (":-", "-"):
        return interpolate(arg, env, warn) if unset else str(value)
    if op in (":?", "?"):
        if unset:
            msg = interpolate(arg, env, warn)
            raise MissingRequired(f"required variable {name} is missing a value" + (f": {msg}" if msg else ""))
        return str(value)
    return "" if unset else interpolate(arg, env, warn)  # :+ / +


def interpolate_tree(node: Any, env: Mapping[str, str], warn: Callable[[str], None] | None = None,
                     path: str = "") -> Any:
    """Every string value in a parsed YAML tree; errors name the key path."""
    if isinstance(node, str):
        try:
            return interpolate(node, env, warn)
        except MissingRequired as exc:
            raise MissingRequired(f"error while interpolating {path}: {exc}") from None
        except InvalidArgument as exc:
            raise InvalidArgument(f"{path}: {exc}") from None
    if isinstance(node, dict):
        return {k: interpolate_tree(v, env, warn, f"{path}.{k}" if path else str(k)) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate_tree(v, env, warn, f"{path}[{i}]") for i, v in enumerate(node)]
    return node
