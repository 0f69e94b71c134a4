"""Service ``secrets`` and ``configs``: bind-mounted files, or files copied in before start.

A file-based secret/config with no ``uid``/``gid``/``mode`` is bind-mounted
read-only, as Docker Compose does. One whose content comes from
``environment:`` (a variable of the project's environment) or ``content:``
(inline, configs only in the spec, accepted for both), or that asks for an
owner or a mode, is written into the container as a tar
(``PUT /containers/{id}/archive``) between create and start. Secrets land in
``/run/secrets/<name>``, configs in ``/<name>``, unless ``target`` says
otherwise; the default mode is 0444 and the owner root.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .schema import ComposeInvalid

ROOTS = {"secrets": "/run/secrets/", "configs": "/"}


@dataclass(frozen=True, slots=True)
class FileCopy:
    path: str       # absolute path in the container
    data: bytes
    uid: int
    gid: int
    mode: int


def _target(kind: str, ref: dict[str, Any]) -> str:
    target = str(ref.get("target") or ref["source"])
    return target if target.startswith("/") else ROOTS[kind] + target


def _mode(value: Any) -> int:
    # YAML reads 0440 as octal 288 already; a string "0440" is octal text.
    if isinstance(value, str):
        return int(value, 8)
    return int(value)


def plan(model: dict[str, Any], service: str, env: Mapping[str, str] | None) -> tuple[list[str], list[FileCopy]]:
    """(binds ``src:dst:ro``, files to copy in) for one service of the normalised model.

    With ``env`` None only the binds are worked out (the create body, the config hash) and nothing is read.
    """
    svc = model["services"][service]
    binds: list[str] = []
    copies: list[FileCopy] = []
    for kind in ("secrets", "configs"):
        defined = model.get(kind) or {}
        for ref in svc.get(kind) or []:
            src = defined.get(ref["source"])
            what = kind[:-1]
            if src is None:
                raise ComposeInvalid(f"service {service!r} refers to undefined {what} {ref['source']}: "
                                     "invalid compose project")
            if src.get("external"):
                raise ComposeInvalid(f"service {service!r}: external {what} {ref['source']!r} is only "
                                     "supported by swarm services")
            target = _target(kind, ref)
            owned = any(k in ref for k in ("uid", "gid", "mode"))
            if "file" in src and not owned:
                binds.append(f"{src['file']}:{target}:ro")
                continue
            if env is None:
                continue
            if "file" in src:
                try:
                    with open(src["file"], "rb") as f:
                        data = f.read()
                except OSError as exc:
                    raise ComposeInvalid(f"{what} {ref['source']!r}: {exc.strerror}: {src['file']}") from None
            elif "environment" in src:
                var = str(src["environment"])
                if var not in env:
                    raise ComposeInvalid(f"environment variable {var!r} required by {what} {ref['source']!r} "
                                         "is not set")
                data = env[var].encode()
            elif "content" in src:
                data = str(src["content"]).encode()
            else:
                raise ComposeInvalid(f"{what} {ref['source']!r} has no file, environment or content")
            copies.append(FileCopy(target, data, int(ref.get("uid", 0)), int(ref.get("gid", 0)),
                                   _mode(ref.get("mode", 0o444))))
    return binds, copies


def tar_of(copies: list[FileCopy]) -> bytes:
    """One archive holding every file (and its parent directories), to extract at ``/``."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs: set[str] = set()
        for c in copies:
            parts = c.path.strip("/").split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    info = tarfile.TarInfo(d)
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    tar.addfile(info)
            info = tarfile.TarInfo(posixpath.normpath(c.path).lstrip("/"))
            info.size, info.uid, info.gid, info.mode = len(c.data), c.uid, c.gid, c.mode
            tar.addfile(info, io.BytesIO(c.data))
    return buf.getvalue()


def copy_in(api: Any, cid: str, copies: list[FileCopy]) -> None:
    if not copies:
        return
    from dockyard.client.volumes import put_archive

    put_archive(api, cid, "/", [tar_of(copies)])
