"""``HostConfig.LogConfig`` → what the shim writes (pure).

Drivers: ``json-file`` (rotation with ``max-size``/``max-file``), ``local``
(Docker's defaults 20m × 5; stored in the json-file format here, not
Docker's protobuf, so ``logs`` reads both the same way) and ``none``.
Options are checked at create with moby's messages; the result travels to
the shim as annotations of the OCI spec (``runtime/logrotate.py``).
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping

from dockyard.errors import InvalidArgument
from dockyard.oci import runtime as oci
from dockyard.runtime.logrotate import DRIVER, MAX_FILE, MAX_SIZE, rotated_paths

DRIVERS = ("json-file", "local", "none")
_JSON_OPTS = ("max-file", "max-size", "compress", "labels", "labels-regex", "env", "env-regex", "tag")
_LOCAL_OPTS = ("max-file", "max-size", "compress")
_SIZE = re.compile(r"^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$")
_UNITS = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def _size(text: str) -> int:
    m = _SIZE.match(text.strip())
    if m is None:
        raise InvalidArgument(f"invalid size: '{text}'")
    return int(float(m.group(1)) * _UNITS.get((m.group(2) or "").lower(), 1))


def settings(host: Mapping[str, Any]) -> tuple[str, int, int]:
    """(driver, max_size, max_file); raises InvalidArgument with moby's texts."""
    lc = host.get("LogConfig") or {}
    driver = lc.get("Type") or "json-file"
    opts = lc.get("Config") or {}
    if driver not in DRIVERS:
        raise InvalidArgument(f"logger: no log driver named '{driver}' is registered")
    allowed = {"json-file": _JSON_OPTS, "local": _LOCAL_OPTS, "none": ()}[driver]
    for key in opts:
        if key not in allowed:
            raise InvalidArgument(f"unknown log opt '{key}' for {driver} log driver")
    max_size = _size(opts["max-size"]) if opts.get("max-size") else (20 << 20 if driver == "local" else 0)
    try:
        max_file = int(opts["max-file"]) if opts.get("max-file") else (5 if driver == "local" else 1)
    except ValueError:
        raise InvalidArgument(f"invalid value for max-file: {opts['max-file']}") from None
    if max_file < 1:
        raise InvalidArgument("max-file cannot be less than 1")
    if max_file > 1 and not max_size:
        raise InvalidArgument("max-file can only be used with max-size")
    return driver, max_size, max_file


def annotate(spec: oci.Spec, host: Mapping[str, Any]) -> oci.Spec:
    driver, max_size, max_file = settings(host)
    return replace(spec, annotations={**spec.annotations, DRIVER: driver, MAX_SIZE: str(max_size),
                                      MAX_FILE: str(max_file)})


def log_files(path: Path, host: Mapping[str, Any]) -> list[Path]:
    """The files ``logs`` reads, oldest first; empty for driver ``none``."""
    try:
        driver, _, max_file = settings(host)
    except InvalidArgument:
        return [path]
    return [] if driver == "none" else rotated_paths(path, max_file)
