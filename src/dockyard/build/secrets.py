"""``RUN --mount=type=secret``: parse (pure), expose to one RUN, leave nothing behind.

Where the values come from: ``dockyard build --secret`` sends them in one
request header (``wire/buildsecrets.py``); the daemon keeps them in memory
(``Options.secrets``) for the build only.

What a secret mount becomes (BuildKit's Dockerfile frontend rules):

* ``id`` (default: the basename of ``target``); ``target`` (default
  ``/run/secrets/<id>`` unless ``env`` is given); ``env=VAR`` also (or, with
  no target, only) sets ``VAR`` to the value for that RUN; ``required``
  (default false: a missing secret is simply not mounted); ``mode`` (octal,
  default 0400), ``uid``/``gid`` (default 0).
* The file is written for one RUN under the builder's secrets dir (the
  daemon's exec root, a tmpfs), bind-mounted read-only, and unlinked when
  the RUN ends.  The mount point is dropped from the layer like any RUN
  mount's, so the image, its layers and its history never hold it.
* Cache: as BuildKit, the secret's *content* is not part of the step's
  key, only the mount spec (id, target, env, mode, ...).  Changing a
  secret's value therefore reuses the cached step; ``--no-cache`` rebuilds.
* An ``env=`` secret reaches the RUN container's Env, so it sits in that
  container's record (state DB) for the RUN's lifetime and goes with it.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from dockyard.build.runmounts import RunMount
from dockyard.errors import InvalidArgument, NotFound

# --userns-remap: a container (uid, gid) -> the host's, for the files the RUN container must read
Owner = Callable[[int, int], tuple[int, int]]

_TRUE = ("", "true", "1")
_KEYS = {"id", "target", "env", "required", "mode", "uid", "gid"}


def parse_secret_mount(text: str, fields: dict[str, str], workdir: str) -> RunMount:
    """``fields`` (keys normalised, ``type`` removed) of one ``--mount=type=secret`` -> RunMount."""
    extra = set(fields) - _KEYS
    if extra:
        raise InvalidArgument(f"unexpected key '{sorted(extra)[0]}' in '{text}'")
    target = fields.get("target", "")
    sid = fields.get("id", "")
    env = fields.get("env", "")
    if not sid and target:
        sid = posixpath.basename(target.rstrip("/"))
    if not sid:
        raise InvalidArgument(f"invalid mount {text!r}: secret id or target is required")
    if not target and not env:
        target = "/run/secrets/" + sid
    if target:
        target = posixpath.normpath(posixpath.join(workdir or "/", target))
    nums: dict[str, int] = {}
    for name, base, default in (("mode", 8, 0o400), ("uid", 10, 0), ("gid", 10, 0)):
        try:
            nums[name] = int(fields[name], base) if name in fields else default
        except ValueError:
            raise InvalidArgument(f"invalid mount {text!r}: bad {name}") from None
    required = fields.get("required", "false").lower() in _TRUE
    return RunMount("secret", target, readonly=True, id=sid, env=env, required=required, mode=nums["mode"],
                    uid=nums["uid"], gid=nums["gid"])


def check(mounts: list[RunMount], secrets: Mapping[str, bytes]) -> None:
    """NotFound for a required secret the build was not given (before any container starts)."""
    for m in mounts:
        if m.type == "secret" and m.required and m.id not in secrets:
            raise NotFound(f"secret {m.id}: not found")


def env_of(mounts: list[RunMount], secrets: Mapping[str, bytes]) -> list[str]:
    """``VAR=value`` for the ``env=`` secrets the build has."""
    out = []
    for m in mounts:
        if m.type == "secret" and m.env and m.id in secrets:
            out.append(f"{m.env}={secrets[m.id].decode('utf-8', 'replace')}")
    return out


@contextmanager
def file_mount(m: RunMount, secrets: Mapping[str, bytes], secrets_dir: str,
               owner: Owner | None = None) -> Iterator[dict[str, Any] | None]:
    """The HostConfig mount of one secret file (None when there is no file to mount), unlinked after.

    ``owner`` (a remapping daemon): the file goes to the host ids of the mount's uid/gid, and the
    build's dir to the remapped root, which must reach the file to bind it (its parent: traverse only).
    """
    if not m.target or m.id not in secrets:
        yield None  # env-only, or an optional secret the build lacks: nothing mounted
        return
    os.makedirs(secrets_dir, mode=0o700, exist_ok=True)
    uid, gid = m.uid, m.gid
    if owner is not None:
        uid, gid = owner(m.uid, m.gid)
        os.chmod(os.path.dirname(secrets_dir), 0o711)  # random names: nothing to list
        os.chown(secrets_dir, *owner(0, 0))
    path = os.path.join(secrets_dir, os.urandom(12).hex())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.write(fd, secrets[m.id])
            os.fchown(fd, uid, gid)
            os.fchmod(fd, m.mode)
        finally:
            os.close(fd)
        yield {"Type": "bind", "Source": path, "Target": m.target, "ReadOnly": True}
    finally:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
