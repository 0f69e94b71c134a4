"""``dockyard compose``: run ``dockyard.compose.command`` in the venv's interpreter (it needs PyYAML).

Like ``dockyard registry``: the stdlib-only CLI replaces itself (``os.execv``)
with the same interpreter minus ``-S``, so ``dockyard --help`` and every
other command never pay for the Compose implementation's imports.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_BOOT = ("import sys; sys.path.insert(0, {src!r}); "
         "from dockyard.compose.command import main; sys.exit(main(sys.argv[1:]))")


def compose_argv(host: str, args: list[str]) -> list[str]:
    import dockyard

    src = os.path.dirname(os.path.dirname(os.path.abspath(dockyard.__file__)))
    return [sys.executable, "-I", "-c", _BOOT.format(src=src), "-H", host, *args]


def compose(ctx: Any, args: list[str]) -> int:
    argv = compose_argv(ctx.host, list(args))
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(argv[0], argv)
    return 0  # not reached
