"""``--change`` Dockerfile instructions of commit and import, applied to a Docker ``Config`` object (pure).

Only instructions that change configuration are valid (moby's
``validCommitCommands``); errors use Docker's texts, e.g.
``run is not a valid change command``, ``ENV must have two arguments``.
"""

from __future__ import annotations

import json
import posixpath
import shlex
from typing import Any, Sequence

from dockyard.errors import InvalidArgument

VALID = ("cmd", "entrypoint", "env", "expose", "label", "onbuild", "stopsignal", "user", "volume", "workdir")


def apply_changes(config: dict[str, Any], changes: Sequence[str]) -> dict[str, Any]:
    """A copy of ``config`` with every instruction of ``changes`` applied in order."""
    out = json.loads(json.dumps(config or {}))
    for line in changes:
        for one in line.splitlines():
            one = one.strip()
            if one and not one.startswith("#"):
                _apply(out, one)
    return out


def _apply(cfg: dict[str, Any], line: str) -> None:
    word, _, rest = line.partition(" ")
    cmd = word.lower()
    rest = rest.strip()
    if cmd not in VALID:
        raise InvalidArgument(f"{cmd} is not a valid change command")
    if cmd in ("cmd", "entrypoint"):
        key = "Cmd" if cmd == "cmd" else "Entrypoint"
        cfg[key] = _exec_form(rest) if rest.startswith("[") else ["/bin/sh", "-c", rest]
    elif cmd == "env":
        env = list(cfg.get("Env") or [])
        for k, v in _pairs(rest, "ENV"):
            env = [e for e in env if e.partition("=")[0] != k] + [f"{k}={v}"]
        cfg["Env"] = env
    elif cmd == "label":
        labels = dict(cfg.get("Labels") or {})
        labels.update(_pairs(rest, "LABEL"))
        cfg["Labels"] = labels
    elif cmd == "expose":
        ports = _words(rest)
        if not ports:
            raise InvalidArgument("EXPOSE requires at least one argument")
        exposed = dict(cfg.get("ExposedPorts") or {})
        for p in ports:
            exposed[p if "/" in p else f"{p}/tcp"] = {}
        cfg["ExposedPorts"] = exposed
    elif cmd == "volume":
        vols = _exec_form(rest) if rest.startswith("[") else _words(rest)
        if not vols:
            raise InvalidArgument("VOLUME requires at least one argument")
        volumes = dict(cfg.get("Volumes") or {})
        volumes.update({v: {} for v in vols})
        cfg["Volumes"] = volumes
    elif cmd == "onbuild":
        if not rest:
            raise InvalidArgument("ONBUILD requires at least one argument")
        cfg["OnBuild"] = [*(cfg.get("OnBuild") or []), rest]
    elif cmd in ("user", "workdir", "stopsignal"):
        if not rest:
            raise InvalidArgument(f"{cmd.upper()} requires exactly one argument")
        if cmd == "user":
            cfg["User"] = rest
        elif cmd == "stopsignal":
            cfg["StopSignal"] = rest
        else:  # relative to the previous WORKDIR, as in a Dockerfile
            cfg["WorkingDir"] = posixpath.normpath(posixpath.join("/", cfg.get("WorkingDir") or "/", rest))


def _exec_form(text: str) -> list[str]:
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidArgument(f"invalid JSON array: {text}")
    return value


def _words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise InvalidArgument(f"invalid instruction argument {text!r}: {exc}") from None


def _pairs(text: str, name: str) -> list[tuple[str, str]]:
    """``k=v k2="v 2"`` or the legacy ``k v with spaces`` form."""
    words = _words(text)
    if not words:
        raise InvalidArgument(f"{name} must have two arguments" if name == "ENV" else f"{name} requires at least one argument")
    if "=" not in words[0]:
        if len(words) < 2:
            raise InvalidArgument(f"{name} must have two arguments")
        key, _, value = text.strip().partition(" ")
        return [(key, value.strip())]
    out = []
    for w in words:
        k, sep, v = w.partition("=")
        if not sep or not k:
            raise InvalidArgument(f"{name} names can not be blank" if not k else f"Syntax error - can't find = in {w!r}. Must be of the form: name=value")
        out.append((k, v))
    return out
