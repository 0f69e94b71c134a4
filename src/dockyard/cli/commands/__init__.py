"""One module per resource; each command is ``func(ctx, argv) -> exit code``."""

from __future__ import annotations

# Annotations only: importing typing costs the CLI ~3 ms per command.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from .parser import Parser as Parser


class UsageError(Exception):
    """Bad flags or arguments (docker exits 125 for these)."""


def __getattr__(name: str) -> object:
    # ``Parser`` (argparse + gettext + locale, a few ms) only when a command builds one:
    # ``exec`` parses its common forms with ``cli/quickflags.py`` instead.
    if name == "Parser":
        from .parser import Parser

        return Parser
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
