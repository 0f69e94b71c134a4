"""Reading a container's log whatever its driver: attach's replay and inspect's ``LogPath``.

``logs`` and ``attach --logs`` must read the same files (json-file, or the ``local``
driver's own format and place), so both go through ``logconfig.log_files`` and
``logs.read_log``, never through the json-file path directly.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from dockyard.core.timefmt import ZERO_TIME
from dockyard.daemon.logconfig import log_files, settings
from dockyard.daemon.logs import read_log
from dockyard.errors import InvalidArgument


def replay(json_path: Path, host: Mapping[str, Any], *, stdout: bool, stderr: bool) -> Iterator[tuple[int, bytes]]:
    """What ``attach`` with ``logs=1`` sends first: the whole log, rotated files included;
    nothing for the ``none`` driver (dockerd attaches without a replay there)."""
    files = log_files(json_path, host)
    if not files:
        return iter(())
    return read_log(files[-1], stdout=stdout, stderr=stderr, older=files[:-1])


def inspect_log_path(json_path: Path, host: Mapping[str, Any], started_at: str) -> str:
    """Inspect's ``LogPath``: dockerd sets it when a json-file logger starts; the ``local``
    driver's file is kept private ("" , so its format is no API), as is ``none``'s absence."""
    try:
        driver = settings(host)[0]
    except InvalidArgument:
        driver = "json-file"
    if driver != "json-file" or started_at in ("", ZERO_TIME):
        return ""
    return str(json_path)
