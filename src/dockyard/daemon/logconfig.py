"""``HostConfig.LogConfig`` → what the shim writes (pure).

Drivers: ``json-file`` (rotation with ``max-size``/``max-file``/``compress``),
``local`` (Docker's file format and place, ``runtime/locallog.py``; its
defaults 20m × 5, compressed) and ``none``.  A container without a driver
takes the daemon's (``with_default``, from ``dockyardd --log-driver``/``--log-opt``
or daemon.json, ``daemon_default``).
Options are checked at create with moby's messages; the result travels to
the shim as annotations of the OCI spec (``runtime/logrotate.py``).
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping

from dockyard.errors import Internal, InvalidArgument
from dockyard.oci import runtime as oci
from dockyard.runtime.logrotate import COMPRESS, DRIVER, MAX_FILE, MAX_SIZE, driver_path, rotated_paths

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


_GO_BOOLS = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
             "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}


def compress(host: Mapping[str, Any]) -> bool:
    """The ``compress`` option; checked when the logger starts, as Docker does (create accepts it)."""
    driver, max_size, max_file = settings(host)
    text = ((host.get("LogConfig") or {}).get("Config") or {}).get("compress")
    if driver == "none":
        return False
    if not text:
        return driver == "local" and max_file > 1  # the local driver compresses by default
    if text not in _GO_BOOLS:
        raise Internal(f"failed to initialize logging driver: strconv.ParseBool: parsing \"{text}\": "
                       "invalid syntax")
    if _GO_BOOLS[text] and (max_file < 2 or not max_size):
        raise Internal("failed to initialize logging driver: compress cannot be true when max-file is less "
                       "than 2 or max-size is not set")
    return _GO_BOOLS[text]


def annotate(spec: oci.Spec, host: Mapping[str, Any]) -> oci.Spec:
    driver, max_size, max_file = settings(host)
    return replace(spec, annotations={**spec.annotations, DRIVER: driver, MAX_SIZE: str(max_size),
                                      MAX_FILE: str(max_file), COMPRESS: str(compress(host)).lower()})


def log_files(path: Path, host: Mapping[str, Any]) -> list[Path]:
    """The files ``logs`` reads, oldest first; empty for driver ``none``."""
    try:
        driver, _, max_file = settings(host)
    except InvalidArgument:
        return [path]
    return [] if driver == "none" else rotated_paths(driver_path(path, driver), max_file)


def daemon_default(doc: Mapping[str, Any], flag_driver: str | None,
                   flag_opts: list[str]) -> tuple[str, dict[str, str]]:
    """dockyardd's default log driver and options: ``--log-driver``/``--log-opt`` or daemon.json's
    ``log-driver``/``log-opts`` (the same directive in both is refused, as dockerd does); checked
    as a container's would be."""
    opts: dict[str, str] = {}
    for item in flag_opts:
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidArgument(f"invalid argument \"{item}\" for \"--log-opt\" flag: "
                                  f"invalid key value pair format: {item}")
        opts[key] = value
    file_driver, file_opts = doc.get("log-driver"), doc.get("log-opts")
    if file_driver is not None and not isinstance(file_driver, str):
        raise InvalidArgument("daemon.json: log-driver must be a string")
    if file_opts is not None and not (isinstance(file_opts, dict)
                                      and all(isinstance(v, str) for v in file_opts.values())):
        raise InvalidArgument("daemon.json: log-opts must be an object of strings")
    clashes = []
    if flag_driver is not None and file_driver is not None:
        clashes.append(f"log-driver: (from flag: {flag_driver}, from file: {file_driver})")
    if opts and file_opts is not None:
        clashes.append(f"log-opts: (from flag: {_go_map(opts)}, from file: {_go_map(file_opts)})")
    if clashes:
        raise InvalidArgument("the following directives are specified both as a flag and in the configuration "
                              "file: " + ", ".join(clashes))
    driver = flag_driver or file_driver or "json-file"
    opts = opts or dict(file_opts or {})
    settings({"LogConfig": {"Type": driver, "Config": opts}})
    return driver, opts


def _go_map(m: Mapping[str, str]) -> str:
    return "map[" + " ".join(f"{k}:{v}" for k, v in sorted(m.items())) + "]"


def with_default(host: Mapping[str, Any], driver: str, opts: Mapping[str, str]) -> dict[str, Any]:
    """moby's ``mergeAndVerifyLogConfig``: no ``Type`` takes the daemon's driver; a container of
    the daemon's driver gets the daemon's options it does not set itself."""
    raw = host.get("LogConfig")
    lc: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
    kind = lc.get("Type") or driver
    config = dict(lc.get("Config") or {})
    if kind == driver:
        config = {**opts, **config}
    return {**host, "LogConfig": {"Type": kind, "Config": config}}
