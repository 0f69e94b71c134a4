"""A command's flags written once, parsed fast for the common forms and by argparse for the rest.

``run`` and ``ps`` describe their flags as ``add_argument`` calls (the
argparse subset below), so the same table feeds two parsers: the quick one
(``quickflags.parse``, no argparse import: a few ms of every start-up) and,
when the quick one declines (``--help``, an abbreviation, a bad value, an
unknown flag), argparse itself, built from the recorded calls, which owns
every help and error text.  Understood: ``store``, ``store_true``,
``store_const``, ``append``, ``default``, ``dest``, ``type=int``, and
positionals (one value, or ``nargs=REMAINDER``); a flag declared with
anything else is left to argparse whenever it is used.
"""

from __future__ import annotations

from dockyard.cli import quickflags

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

REMAINDER = "..."  # argparse.REMAINDER, without importing argparse


class Namespace:
    """The parsed flags, as attributes (argparse.Namespace's shape)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

    def __repr__(self) -> str:
        return f"Namespace({self.__dict__!r})"


class FlagTable:
    """Records ``add_argument`` calls; ``parse`` tries the quick parser first."""

    def __init__(self, make_parser: Callable[[], Any]) -> None:
        self._make_parser = make_parser  # a fresh cli.commands.Parser, for the slow path
        self._calls: list[tuple[tuple[str, ...], dict[str, Any]]] = []
        self._spec: quickflags.FlagSpec | None = None
        self._positionals: list[tuple[str, Any]] = []  # (dest, nargs)
        self._types: dict[str, Callable[[str], Any]] = {}
        self._consts: dict[str, Any] = {}
        self._initial: dict[str, Any] = {}
        self._argparse_only = False  # a positional shape the quick parser does not know

    def add_argument(self, *names: str, **kw: Any) -> None:
        self._calls.append((names, kw))
        self._spec = None

    def argparser(self) -> Any:
        """An argparse parser with every recorded flag."""
        p = self._make_parser()
        for names, kw in self._calls:
            p.add_argument(*names, **kw)
        return p

    def parse(self, argv: list[str]) -> Any:
        quick = self.quick(argv)
        return quick if quick is not None else self.argparser().parse_args(argv)

    def quick(self, argv: list[str]) -> Namespace | None:
        """The parsed flags, or None when argparse must decide (declining is always safe)."""
        spec = self._compile()
        if self._argparse_only or not self._argparse_would_agree(spec, argv):
            return None
        parsed = quickflags.parse(spec, argv)
        if parsed is None:
            return None
        values, rest = parsed
        for dest, conv in self._types.items():
            if isinstance(values[dest], str):
                try:
                    values[dest] = conv(values[dest])
                except ValueError:
                    return None  # argparse words the error
        for dest, const in self._consts.items():
            if values[dest] is True:
                values[dest] = const
        for dest, nargs in self._positionals:
            if nargs == REMAINDER:
                values[dest], rest = rest, []
            elif rest:
                values[dest], rest = rest[0], rest[1:]
            else:
                return None
        return None if rest else Namespace(values)

    @staticmethod
    def _argparse_would_agree(spec: quickflags.FlagSpec, argv: list[str]) -> bool:
        """False for the forms where quickflags (pflag's rules) and argparse differ."""
        i = 0
        while i < len(argv):
            arg = argv[i]
            if arg == "--":
                return False  # argparse's "--" rules for positionals are its own
            if not arg.startswith("-") or arg == "-":
                return True  # the first positional: the rest is the command
            name, eq, _ = arg.partition("=")
            if eq and name in spec.bools:
                return False  # --rm=false: argparse refuses a value for a boolean
            if _takes_next_word(spec, arg):
                if i + 1 < len(argv) and _looks_like_flag(argv[i + 1]):
                    return False  # "-e -x": argparse reads -x as a flag, not a value
                i += 1
            i += 1
        return True

    def _compile(self) -> quickflags.FlagSpec:
        if self._spec is not None:
            return self._spec
        bools: dict[str, str] = {}
        values: dict[str, str] = {}
        lists: set[str] = set()
        initial: dict[str, Any] = {}
        self._positionals, self._types, self._consts = [], {}, {}
        self._argparse_only = False
        for names, kw in self._calls:
            if not names[0].startswith("-"):
                if kw.get("nargs") not in (None, REMAINDER) or set(kw) - {"nargs", "help", "metavar"}:
                    self._argparse_only = True
                self._positionals.append((names[0], kw.get("nargs")))
                continue
            dest = kw.get("dest") or next((n for n in names if n.startswith("--")), names[0]).lstrip("-").replace("-", "_")
            action = kw.get("action", "store")
            extra = set(kw) - {"action", "default", "dest", "type", "const", "help", "metavar"}
            kind = {"store_true": bools, "store_const": bools, "store": values, "append": values}.get(action)
            if kind is None or extra or (kw.get("type") not in (None, int)):
                initial[dest] = kw.get("default")  # left out of the spec: using it declines the quick path
                continue
            for name in names:
                kind[name] = dest
            if action == "append":
                lists.add(dest)
            if action == "store_const":
                self._consts[dest] = kw.get("const")
            if "type" in kw:
                self._types[dest] = kw["type"]
            initial[dest] = kw.get("default", False if kind is bools else None)
        self._initial = initial
        self._spec = quickflags.FlagSpec(bools, values, frozenset(lists), initial)
        return self._spec


def _looks_like_flag(arg: str) -> bool:
    """argparse's view: starts with "-", is not "-" alone, and is not a negative number."""
    if not arg.startswith("-") or arg == "-":
        return False
    whole, dot, frac = arg[1:].partition(".")  # argparse: ^-\d+$|^-\d*\.\d+$
    negative = (whole == "" or whole.isdecimal()) and frac.isdecimal() if dot else whole.isdecimal()
    return not negative


def _takes_next_word(spec: quickflags.FlagSpec, arg: str) -> bool:
    """Does flag word ``arg`` take its value from the next word (``-e X``, ``--env X``, ``-ie X``)?"""
    if arg.startswith("--"):
        return arg in spec.values
    for j in range(1, len(arg)):
        short = "-" + arg[j]
        if short in spec.values:
            return j == len(arg) - 1
        if short not in spec.bools:
            return False
    return False
