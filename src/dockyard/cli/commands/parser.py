"""``Parser``: argparse with docker's wording; imported on first use (see ``__init__``)."""

from __future__ import annotations

import argparse
import os

from . import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn


def _formatter(prog: str) -> argparse.HelpFormatter:
    # argparse's default formatter imports shutil for the terminal width on
    # every add_argument (~2 ms of each command's start-up); os has it too.
    try:
        width = os.get_terminal_size().columns
    except OSError:
        width = 80
    return argparse.HelpFormatter(prog, width=max(width - 2, 20))


class Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, with docker's wording."""

    def __init__(self, prog: str, description: str = "", *, hostname_flag: bool = False) -> None:
        # run/create use -h for --hostname, as docker does; --help still works.
        super().__init__(prog=f"dockyard {prog}", description=description, add_help=False,
                         formatter_class=_formatter)
        if hostname_flag:
            self.add_argument("--help", action="help", help="Print usage")
        else:
            self.add_argument("-h", "--help", action="help", help="Print usage")

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments: "):
            message = "unknown flag: " + message.split(": ", 1)[1]
        raise UsageError(f"dockyard: {message}")
