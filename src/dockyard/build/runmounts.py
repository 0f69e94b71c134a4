"""``RUN --mount``: parse the flag (pure), then turn it into the RUN container's mounts.

BuildKit's syntax (``type=cache|bind|tmpfs|secret``; ``ssh`` is refused
clearly).  What each becomes:

* **bind** (the default type): a read-only bind of ``source`` (default the
  root) from the build context, or from a stage/image with ``from=``; with
  ``rw`` a scratch copy, so writes are thrown away as BuildKit does.  The
  source is resolved inside its root (a context symlink cannot reach a host
  path).  Its content digest is part of the step's cache key.
* **cache**: a directory under ``<data-root>/build/mounts`` named by ``id``
  (default: the target) that persists across builds and daemon restarts and
  is emptied by ``builder prune``; created with ``mode``/``uid``/``gid``,
  seeded from ``from=``/``source=`` when new; ``sharing=locked`` serialises
  its users, ``private`` gives a second user a fresh directory.  Its content
  is never part of a cache key (that is the point of it).
* **tmpfs**: a tmpfs at the target (``size=`` bytes).
* **secret**: ``build/secrets.py``: a read-only file bind (default
  ``/run/secrets/<id>``) and/or an environment variable (``env=``) from the
  build's in-memory secrets; only the mount spec is in the cache key.

Mount points the RUN created only for its mounts are dropped from the
layer (``created_dirs`` / the runner), so a mount leaves no trace in the image.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from dockyard.build.copier import scoped
from dockyard.errors import FailedPrecondition, InvalidArgument

_TRUE = ("", "true", "1")


@dataclass(frozen=True, slots=True)
class RunMount:
    type: str  # bind | cache | tmpfs | secret
    target: str  # absolute, normalised
    source: str = ""
    from_: str = ""
    readonly: bool = False
    id: str = ""
    sharing: str = "shared"
    mode: int = 0o755
    uid: int = 0
    gid: int = 0
    size: int = 0
    env: str = ""  # type=secret: also (or only) this environment variable
    required: bool = False  # type=secret: fail when the build has no such secret

    def key(self) -> dict[str, Any]:
        """What identifies the mount in a step's cache key (bind contents are added separately)."""
        return {"type": self.type, "target": self.target, "source": self.source, "from": self.from_,
                "readonly": self.readonly, "id": self.id, "sharing": self.sharing, "mode": self.mode,
                "uid": self.uid, "gid": self.gid, "size": self.size,
                **({"env": self.env, "required": self.required} if self.type == "secret" else {})}


def parse(text: str, workdir: str = "/") -> RunMount:
    """One ``--mount`` value; InvalidArgument for what BuildKit rejects."""
    fields: dict[str, str] = {}
    for part in text.split(","):
        if not part:
            continue
        key, eq, value = part.partition("=")
        key = key.strip().lower()
        fields[{"dst": "target", "destination": "target", "src": "source", "ro": "readonly",
                "readwrite": "rw"}.get(key, key)] = value if eq else ""
    kind = fields.pop("type", "bind")
    if kind == "ssh":
        raise FailedPrecondition(f"RUN --mount=type={kind} is not supported by dockyard's builder")
    if kind == "secret":
        from dockyard.build.secrets import parse_secret_mount

        return parse_secret_mount(text, fields, workdir)
    if kind not in ("bind", "cache", "tmpfs"):
        raise InvalidArgument(f"unsupported mount type {kind!r}")
    target = fields.pop("target", None)
    if not target:
        raise InvalidArgument(f"invalid mount {text!r}: mount target is required")
    target = posixpath.normpath(posixpath.join(workdir or "/", target))
    readonly = kind == "bind"
    if "readonly" in fields:
        readonly = fields.pop("readonly").lower() in _TRUE
    if "rw" in fields:
        readonly = not fields.pop("rw").lower() in _TRUE
    m: dict[str, Any] = {}
    for name in ("source", "from", "id", "sharing"):
        if name in fields:
            m[name.replace("from", "from_")] = fields.pop(name)
    for name, base in (("mode", 8), ("uid", 10), ("gid", 10), ("size", 10)):
        if name in fields:
            try:
                m[name] = int(fields.pop(name), base)
            except ValueError:
                raise InvalidArgument(f"invalid mount {text!r}: bad {name}") from None
    if fields:
        raise InvalidArgument(f"unexpected key '{sorted(fields)[0]}' in '{text}'")
    if m.get("sharing", "shared") not in ("shared", "private", "locked"):
        raise InvalidArgument(f"unsupported sharing value {m['sharing']!r}")
    if kind != "cache" and set(m) & {"id", "sharing", "mode", "uid", "gid"}:
        raise InvalidArgument(f"invalid mount {text!r}: id, sharing, mode, uid and gid are for type=cache")
    if kind == "tmpfs" and set(m) & {"source", "from_"}:
        raise InvalidArgument(f"invalid mount {text!r}: a tmpfs mount has no source")
    if kind == "cache" and not m.get("id"):
        m["id"] = target
    return RunMount(kind, target, readonly=readonly, **m)


def inside(root: str, path: str) -> str:
    """``path`` under ``root``, symlinks resolved inside ``root`` (as COPY does); ``..`` may not leave it."""
    if ".." in path.split("/"):
        raise InvalidArgument(f"mount source {path!r} leaves its root")
    root = os.path.realpath(root)
    full = scoped(root, path)
    real = os.path.realpath(full)
    if real != root and not real.startswith(root + os.sep):  # defence in depth: scoped never leaves root
        raise InvalidArgument(f"mount source {path!r} leaves its root")
    if not os.path.lexists(full):
        raise InvalidArgument(f"failed to compute cache key: \"/{path.lstrip('/')}\": not found")
    return full


def tree_digest(path: str) -> str:
    """Names, modes and contents under ``path`` (or of the file): a bind source's part of the cache key."""
    h = hashlib.sha256()
    if not os.path.isdir(path):
        _file_into(h, path, ".")
        return h.hexdigest()
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames.sort()
        for name in [""] + sorted(filenames) + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            full = os.path.join(dirpath, name) if name else dirpath
            _file_into(h, full, os.path.relpath(full, path))
    return h.hexdigest()


def _file_into(h: Any, full: str, rel: str) -> None:
    st = os.lstat(full)
    h.update(f"{rel}\0{st.st_mode:o}\0{st.st_uid}\0{st.st_gid}\0".encode())
    if os.path.islink(full):
        h.update(os.readlink(full).encode())
    elif os.path.isfile(full):
        with open(full, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    h.update(b"\0")


class CacheMounts:
    """Persistent ``type=cache`` directories under ``root``, with their sharing locks."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._create_lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._busy: dict[str, int] = {}

    def _dir(self, cache_id: str) -> str:
        return os.path.join(self.root, hashlib.sha256(cache_id.encode()).hexdigest())

    @contextmanager
    def use(self, m: RunMount, seed: str | None, scratch: str) -> Iterator[str]:
        """The host directory for ``m`` while the RUN uses it."""
        path = self._dir(m.id)
        with self._lock:
            lock = self._locks.setdefault(m.id, threading.Lock())
            busy = self._busy.get(m.id, 0)
            self._busy[m.id] = busy + 1
        try:
            if m.sharing == "private" and busy:
                fresh = os.path.join(scratch, "cache-" + os.urandom(6).hex())
                self._create(fresh, m, seed)
                yield fresh
                return
            with lock if m.sharing == "locked" else _nothing():
                with self._create_lock:  # one creator; creation is quick next to a RUN
                    if not os.path.isdir(path):
                        self._create(path, m, seed)
                yield path
        finally:
            with self._lock:
                self._busy[m.id] -= 1

    @staticmethod
    def _create(path: str, m: RunMount, seed: str | None) -> None:
        tmp = path + ".new-" + os.urandom(4).hex()
        if seed is not None and os.path.isdir(seed):
            shutil.copytree(seed, tmp, symlinks=True)
        else:
            os.makedirs(tmp)
        os.chmod(tmp, m.mode)
        os.lchown(tmp, m.uid, m.gid)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.rename(tmp, path)

    def prune(self) -> int:
        """Remove every cache directory; the bytes freed."""
        size = 0
        if not os.path.isdir(self.root):
            return 0
        for name in os.listdir(self.root):
            full = os.path.join(self.root, name)
            for dirpath, _dirs, files in os.walk(full):
                for f in files:
                    try:
                        size += os.lstat(os.path.join(dirpath, f)).st_size
                    except OSError:
                        pass
            shutil.rmtree(full, ignore_errors=True)
        return size


@contextmanager
def _nothing() -> Iterator[None]:
    yield


@contextmanager
def realise(mounts: list[RunMount], *, context: str, fs_of: Callable[[str], str], caches: CacheMounts,
            scratch: str, secrets: Mapping[str, bytes] | None = None,
            secrets_dir: str = "", secrets_owner: Callable[[int, int], tuple[int, int]] | None = None,
            ) -> Iterator[list[dict[str, Any]]]:
    """HostConfig ``Mounts`` entries for the RUN container, valid inside the ``with``."""
    with ExitStack() as stack:
        out: list[dict[str, Any]] = []
        for m in mounts:
            if m.type == "secret":
                from dockyard.build.secrets import file_mount

                secret = stack.enter_context(file_mount(m, secrets or {}, secrets_dir or scratch, secrets_owner))
                if secret is not None:
                    out.append(secret)
                continue
            if m.type == "tmpfs":
                entry: dict[str, Any] = {"Type": "tmpfs", "Target": m.target}
                if m.size:
                    entry["TmpfsOptions"] = {"SizeBytes": m.size}
                out.append(entry)
                continue
            if m.type == "cache":
                seed = inside(fs_of(m.from_), m.source or "/") if m.from_ else None
                host = stack.enter_context(caches.use(m, seed, scratch))
                out.append({"Type": "bind", "Source": host, "Target": m.target, "ReadOnly": m.readonly})
                continue
            root = fs_of(m.from_) if m.from_ else context
            host = inside(root, m.source or "/")
            if not m.readonly:  # writes go to a throw-away copy
                copy = os.path.join(scratch, "bind-" + os.urandom(6).hex())
                if os.path.isdir(host):
                    shutil.copytree(host, copy, symlinks=True)
                else:
                    shutil.copy2(host, copy)
                stack.callback(shutil.rmtree if os.path.isdir(copy) else os.unlink, copy)
                host = copy
            out.append({"Type": "bind", "Source": host, "Target": m.target, "ReadOnly": m.readonly})
        yield out
