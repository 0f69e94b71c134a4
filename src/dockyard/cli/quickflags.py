"""A fast flag parser for the hot commands (``exec``): no argparse on the common path.

argparse (with gettext and locale behind it) costs a few milliseconds of
every command's start-up; ``exec CONTAINER true`` is measured against the
docker CLI, written in Go.  This parses docker's (pflag's) common forms only
-- ``-e X``, ``-eX``, ``--env X``, ``--env=X``, bundled booleans ``-it``,
flags before the first positional (``SetInterspersed(false)``) -- and answers
None for anything else (``--help``, an unknown flag, a missing value), so the
caller falls back to its argparse parser, which owns help and error texts.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class FlagSpec:
    """``bools`` and ``values``: {flag spelling: destination}; ``lists``: destinations that append."""

    def __init__(self, bools: dict[str, str], values: dict[str, str], lists: frozenset[str] = frozenset(),
                 initial: dict[str, Any] | None = None) -> None:
        self.bools, self.values, self.lists = bools, values, lists
        self.initial = initial  # the destinations' defaults, when not False / "" / []

    def defaults(self) -> dict[str, Any]:
        out: dict[str, Any] = {d: False for d in self.bools.values()}
        out.update({d: ([] if d in self.lists else "") for d in self.values.values()})
        for dest, value in (self.initial or {}).items():
            out[dest] = list(value) if isinstance(value, list) else value
        return out


def parse(spec: FlagSpec, argv: list[str]) -> tuple[dict[str, Any], list[str]] | None:
    """(flag values, positionals) or None when argparse should take over."""
    out = spec.defaults()

    def put(dest: str, value: str) -> None:
        if dest in spec.lists:
            out[dest].append(value)
        else:
            out[dest] = value

    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            return out, argv[i + 1:]
        if not arg.startswith("-") or arg == "-":
            return out, argv[i:]
        if arg.startswith("--"):
            name, eq, value = arg.partition("=")
            if name in spec.bools:
                if eq and value not in ("true", "false"):
                    return None
                out[spec.bools[name]] = value != "false"
            elif name in spec.values:
                if not eq:
                    if i + 1 >= len(argv):
                        return None
                    i += 1
                    value = argv[i]
                put(spec.values[name], value)
            else:
                return None
            i += 1
            continue
        # -abc: booleans bundled; a value flag takes the rest of the word or the next one
        j = 1
        while j < len(arg):
            short = "-" + arg[j]
            if short in spec.bools:
                out[spec.bools[short]] = True
                j += 1
                continue
            if short not in spec.values:
                return None
            value = arg[j + 1:]
            if not value:
                if i + 1 >= len(argv):
                    return None
                i += 1
                value = argv[i]
            put(spec.values[short], value.removeprefix("=") if arg[j + 1:j + 2] == "=" else value)
            break
        i += 1
    return out, []
