"""Top-level ``include``: other Compose applications copied into this one.

Each entry (a path, or ``{path: str|list, project_directory, env_file}``)
is loaded as a model of its own: its own ``.env`` (or ``env_file``) gives
defaults for its interpolation, its relative paths resolve against its
project directory (the directory of its first file unless set), and its own
``include``s apply recursively. Its services, networks, volumes, secrets and
configs are then added to the including model; a name defined on both sides
is an error, as in Docker Compose. File reading is passed in (``LoadFiles``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from dockyard.errors import NotFound

from . import dotenv
from .schema import ComposeInvalid

# (absolute file paths, project directory, interpolation env, include chain) → merged tree of those files
LoadFiles = Callable[[list[str], str, Mapping[str, str], list[str]], dict[str, Any]]
SECTIONS = ("services", "networks", "volumes", "secrets", "configs")


def _entries(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise ComposeInvalid("validating include: include must be a list")
    out = []
    for i, item in enumerate(value):
        if isinstance(item, str):
            item = {"path": item}
        if not isinstance(item, dict) or not item.get("path"):
            raise ComposeInvalid(f"validating include: include[{i}] must be a path or a mapping with 'path'")
        extra = sorted(set(item) - {"path", "project_directory", "env_file"})
        if extra:
            raise ComposeInvalid(f"validating include: include[{i}] additional properties "
                                 + ", ".join(f"'{k}'" for k in extra) + " not allowed")
        out.append(item)
    return out


def _listed(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def apply(doc: dict[str, Any], base: str, env: Mapping[str, str], chain: list[str], load: LoadFiles) -> dict[str, Any]:
    """``doc`` with its ``include`` entries loaded and copied in (the ``include`` key removed)."""
    if "include" not in doc:
        return doc
    out = {k: v for k, v in doc.items() if k != "include"}
    for entry in _entries(doc["include"] or []):
        files = [os.path.normpath(os.path.join(base, p)) for p in _listed(entry["path"])]
        for f in files:
            if f in chain:
                raise ComposeInvalid("include cycle detected: " + " -> ".join(chain[chain.index(f):] + [f]))
            if not os.path.exists(f):
                raise NotFound(f"include: open {f}: no such file or directory")
        pdir = os.path.normpath(os.path.join(base, str(entry.get("project_directory") or os.path.dirname(files[0]))))
        defaults: dict[str, str] = {}
        # Interpolation only (compose-spec include.md): these values never reach a service's environment.
        # "/dev/null" opts out of the default .env, as in compose-go.
        env_files = [os.path.normpath(os.path.join(base, e)) for e in _listed(entry["env_file"])
                     if e != "/dev/null"] \
            if entry.get("env_file") else [p for p in [os.path.join(pdir, ".env")] if os.path.exists(p)]
        for ef in env_files:
            try:
                with open(ef, encoding="utf-8") as fh:
                    defaults.update(dotenv.parse(fh.read(), ef))
            except FileNotFoundError:
                raise NotFound(f"include: env file {ef} not found") from None
        # The including project's environment wins; the included .env only fills in defaults.
        included = load(files, pdir, {**defaults, **env}, chain)
        for section in SECTIONS:
            if not included.get(section):
                continue
            out[section] = mine = dict(out.get(section) or {})
            for name, item in included[section].items():
                if name in mine and mine[name] != item:
                    raise ComposeInvalid(f"imported compose file {files[0]} defines conflicting {section[:-1]} {name}")
                mine[name] = item
    return out
