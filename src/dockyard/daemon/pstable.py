"""``docker top``: keep the lines of host ``ps`` output that belong to a container (pure).

As moby's ``parsePSOutput``: the header's fields are the titles; the PID
column is found by name; a line is kept when its pid is one of the
container's; the last column takes the rest of the line (commands have spaces).
"""

from __future__ import annotations

from typing import Any, Collection

from dockyard.errors import Internal, InvalidArgument


def ps_args(raw: str | None) -> list[str]:
    """The ``ps_args`` query value, split on whitespace; Docker's default is ``-ef``."""
    args = (raw or "").split()
    for a in args:
        if "\x00" in a:
            raise InvalidArgument("invalid ps arguments")
    return args or ["-ef"]


def parse(output: str, pids: Collection[int]) -> dict[str, Any]:
    lines = output.splitlines()
    if not lines:
        raise Internal("ps produced no output")
    titles = lines[0].split()
    try:
        pid_index = titles.index("PID")
    except ValueError:
        raise Internal("Couldn't find PID field in ps output") from None
    wanted = {str(p) for p in pids}
    procs: list[list[str]] = []
    for line in lines[1:]:
        if not line.strip():
            continue
        fields = line.split()
        if pid_index >= len(fields) or fields[pid_index] not in wanted:
            continue
        n = len(titles)
        row = fields[: n - 1] + [" ".join(fields[n - 1:])] if len(fields) >= n else fields
        procs.append(row)
    return {"Titles": titles, "Processes": procs}
