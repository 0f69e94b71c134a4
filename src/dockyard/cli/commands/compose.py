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


def tls_args(tls: Any) -> list[str]:
    """The CLI's resolved TLS settings (client/tls.py ClientTls) as the compose process's flags."""
    if tls is None:
        return []
    out = ["--tlsverify" if tls.verify else "--tls"]
    for flag, value in (("--tlscacert", tls.cacert), ("--tlscert", tls.cert), ("--tlskey", tls.key)):
        if value:
            out += [flag, os.path.abspath(value)]
    return out


def compose_argv(host: str, args: list[str], tls: Any = None) -> list[str]:
    import dockyard

    src = os.path.dirname(os.path.dirname(os.path.abspath(dockyard.__file__)))
    return [sys.executable, "-I", "-c", _BOOT.format(src=src), "-H", host, *tls_args(tls), *args]


def compose(ctx: Any, args: list[str]) -> int:
    # The same daemon the CLI would reach: its host and TLS settings (-H/--tls* or the environment).
    argv = compose_argv(ctx.host, list(args), getattr(ctx, "tls", None))
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(argv[0], argv)
    return 0  # not reached
