"""``dockyard registry serve|gc``: run the registry server (``dockyard.registry.server``).

The CLI is stdlib-only and runs with ``python -IS``; the server needs
third-party packages (h11, bcrypt) from the venv's site-packages.  So this
command replaces itself (``os.execv``) with the same interpreter, minus
``-S``, running the server module: no import of server code here, no extra
parent process (signals and the pid are the server's own), and
``dockyard registry --help`` stays as fast as any other command.
"""

from __future__ import annotations

import os
import sys

# Annotations only: importing typing costs the CLI ~3 ms per command.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_BOOT = ("import sys; sys.path.insert(0, {src!r}); "
         "from dockyard.registry.server.command import main; sys.exit(main(sys.argv[1:]))")


def server_argv(args: list[str]) -> list[str]:
    """The argv to exec: this interpreter, isolated but with site-packages, our source first."""
    import dockyard

    src = os.path.dirname(os.path.dirname(os.path.abspath(dockyard.__file__)))
    return [sys.executable, "-I", "-c", _BOOT.format(src=src), *args]


def registry(ctx: Any, args: list[str]) -> int:
    argv = server_argv(list(args) or ["--help"])
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(argv[0], argv)
    return 0  # not reached
