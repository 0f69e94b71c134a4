"""``services.<name>.extends``: a service built on another one, from the same file or another (pure).

The base service (itself possibly extending another) is merged under the
local one with the same rules as ``-f`` overrides (``merge.merge_service``):
mappings merge key by key, sequences append, volumes merge by target,
``command``/``entrypoint``/``healthcheck.test`` are replaced. A base from
another file has its relative paths resolved against that file's directory.
Files are read through ``read`` (path → interpolated, validated tree), so
this module does no I/O of its own.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from . import paths
from .merge import merge_service
from .schema import ComposeInvalid

ReadFile = Callable[[str], dict[str, Any]]


def _target(ext: Any, where: str) -> tuple[str | None, str]:
    """``extends: name`` or ``{service, file?}`` → (file or None for this file, service)."""
    if isinstance(ext, str):
        return None, ext
    if isinstance(ext, dict) and isinstance(ext.get("service"), str):
        f = ext.get("file")
        return (str(f) if f else None), ext["service"]
    raise ComposeInvalid(f"{where}.extends must be a service name or a mapping with 'service' (and 'file')")


def resolve(doc: dict[str, Any], path: str, read: ReadFile) -> dict[str, Any]:
    """``doc`` (the tree of file ``path``, paths already made absolute if it needs it) with every extends applied."""
    services = doc.get("services") or {}
    if not any(isinstance(s, dict) and "extends" in s for s in services.values()):
        return doc
    cache: dict[str, dict[str, Any]] = {path: doc}

    def services_of(file: str) -> dict[str, Any]:
        if file not in cache:
            if not os.path.exists(file):
                raise ComposeInvalid(f"extends: open {file}: no such file or directory")
            cache[file] = paths.document(read(file), os.path.dirname(file))
        return cache[file].get("services") or {}

    def flat(file: str, name: str, chain: list[tuple[str, str]]) -> dict[str, Any]:
        key = (file, name)
        if key in chain:
            cycle = " -> ".join(n for _, n in chain + [key])
            raise ComposeInvalid(f"circular reference with extends: {cycle}")
        svc = services_of(file).get(name)
        if svc is None:
            raise ComposeInvalid(f"cannot extend service {name!r} in {file}: service not found")
        svc = dict(svc)
        ext = svc.pop("extends", None)
        if ext is None:
            return svc
        base_file, base_name = _target(ext, f"services.{name}")
        base = flat(base_file or file, base_name, chain + [key])
        return merge_service(base, svc)

    out = dict(doc)
    out["services"] = {n: flat(path, n, []) for n in services}
    return out
