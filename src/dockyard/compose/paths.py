"""Relative paths of one Compose file made absolute against its own directory (pure).

A file reached through ``extends.file`` or ``include`` resolves its relative
paths against its own directory (or the include's ``project_directory``),
not the project's; doing it before merging lets the rest of the loader treat
every path as the main file's.
"""

from __future__ import annotations

import os
from typing import Any

# Build contexts that are not paths (remote Git/URL contexts) stay as they are.
_REMOTE = ("http://", "https://", "git://", "git@", "github.com/", "ssh://")


def _abs(path: str, base: str) -> str:
    path = os.path.expanduser(path)
    return os.path.normpath(path if os.path.isabs(path) else os.path.join(base, path))


def _volume(item: Any, base: str) -> Any:
    if isinstance(item, dict):
        if item.get("type") == "bind" and item.get("source"):
            return {**item, "source": _abs(str(item["source"]), base)}
        return item
    text = str(item)
    source, sep, rest = text.partition(":")
    if sep and source.startswith((".", "~")):
        return _abs(source, base) + ":" + rest
    return item


def _env_file(item: Any, base: str) -> Any:
    if isinstance(item, dict):
        return {**item, "path": _abs(str(item["path"]), base)} if "path" in item else item
    return _abs(str(item), base)


def service(svc: dict[str, Any], base: str) -> dict[str, Any]:
    """One raw service with build context, bind sources, env files and extends.file absolute."""
    svc = dict(svc)
    build = svc.get("build")
    if isinstance(build, str) and not build.startswith(_REMOTE):
        svc["build"] = _abs(build, base)
    elif isinstance(build, dict) and not str(build.get("context", ".")).startswith(_REMOTE):
        svc["build"] = {**build, "context": _abs(str(build.get("context", ".")), base)}
    if "volumes" in svc and isinstance(svc["volumes"], list):
        svc["volumes"] = [_volume(v, base) for v in svc["volumes"]]
    env_file = svc.get("env_file")
    if isinstance(env_file, (str, dict)):
        svc["env_file"] = [_env_file(env_file, base)]
    elif isinstance(env_file, list):
        svc["env_file"] = [_env_file(e, base) for e in env_file]
    ext = svc.get("extends")
    if isinstance(ext, dict) and ext.get("file"):
        svc["extends"] = {**ext, "file": _abs(str(ext["file"]), base)}
    return svc


def document(doc: dict[str, Any], base: str) -> dict[str, Any]:
    """A whole raw file: its services plus the ``file`` of top-level secrets and configs."""
    out = dict(doc)
    if isinstance(doc.get("services"), dict):
        out["services"] = {n: service(s or {}, base) for n, s in doc["services"].items()}
    for kind in ("secrets", "configs"):
        if isinstance(doc.get(kind), dict):
            out[kind] = {n: ({**v, "file": _abs(str(v["file"]), base)} if isinstance(v, dict) and v.get("file")
                             else v) for n, v in doc[kind].items()}
    return out
