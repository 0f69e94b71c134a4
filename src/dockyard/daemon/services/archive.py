"""ArchiveService: ``HEAD``/``GET``/``PUT /containers/{id}/archive`` (``docker cp``).

The container's root is reached two ways, both honouring its mounts:

* running (or paused): ``/proc/<pid>/root``, the root of its own mount
  namespace, volumes, binds and tmpfs included;
* stopped: its rootfs and volumes/binds mounted in a private mount
  namespace of one thread (``daemon/cp/rootns.py``), read-only for reads.

From that root fd every path is resolved by ``daemon/cp/walk.py``: the
kernel never follows a container symlink, so ``/etc -> /`` style links or a
link swapped during the copy stay inside the container (CVE-2018-15664,
CVE-2019-14271 class).
"""

from __future__ import annotations

import json
import os
import posixpath
import stat
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator, Sequence

from dockyard.core.containers import ContainerRecord, ContainerStore, Status
from dockyard.core.mount import Mount
from dockyard.daemon.cp import walk
from dockyard.daemon.cp.extract import extract
from dockyard.daemon.cp.tarout import tar_chunks
from dockyard.errors import EngineError, InvalidArgument, NotFound, PermissionDenied
from dockyard.wire import pathstat

_LIVE = (Status.RUNNING, Status.PAUSED)
MountsFor = Callable[[ContainerRecord], list[tuple[str, Mount, bool]]]  # (dest, mount, read-only)


def _mtime(ns: int) -> str:
    t = datetime.fromtimestamp(ns / 1e9, timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ns % 1_000_000_000:09d}".rstrip("0").ljust(1, "0") + "Z"


class ArchiveService:
    def __init__(self, store: ContainerStore, containers_root: Path, mounts_for: MountsFor) -> None:
        self._store = store
        self._containers_root = Path(containers_root)
        self._mounts_for = mounts_for
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    # ------------------------------------------------------------ roots
    def _run(self, rec: ContainerRecord, work: Callable[[int], Iterator[Any]], *, writable: bool) -> Iterator[Any]:
        """Items of ``work(root_fd)`` with the container's root as it sees it."""
        if rec.state.status in _LIVE and rec.state.pid > 0:
            def live() -> Iterator[Any]:
                fd = os.open(f"/proc/{rec.state.pid}/root", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
                try:
                    yield from work(fd)
                finally:
                    os.close(fd)
            return live()
        from dockyard.daemon.cp import rootns

        rootfs = [Mount.from_json(m) for m in json.loads((self._containers_root / rec.id / "rootfs.json").read_text())]
        extra = [(dest, m) for dest, m, _ro in self._mounts_for(rec)]

        def in_ns(scratch: str) -> Iterator[Any]:
            fd = os.open(scratch, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                yield from work(fd)
            finally:
                os.close(fd)

        lock = self._lock(rec.id) if writable else None
        if lock is not None:
            lock.acquire()
        try:
            items = rootns.stream(rootfs, extra, in_ns, readonly=not writable)
            if lock is None:
                return items
            return iter(list(items))  # a write completes before the lock is released
        finally:
            if lock is not None:
                lock.release()

    def _lock(self, id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(id, threading.Lock())

    # ------------------------------------------------------------ stat / get
    @staticmethod
    def _stat_of(root_fd: int, path: str) -> dict[str, Any]:
        with walk.resolve(root_fd, path) as r:
            if r.st is None:
                raise FileNotFoundError(path)
            st = r.st
            target = ""
            if stat.S_ISLNK(st.st_mode):
                target = walk.link_target(root_fd, path)
            name = posixpath.basename(path.rstrip("/")) or "/"
            return {"name": name, "size": st.st_size, "mode": pathstat.go_mode(st.st_mode),
                    "mtime": _mtime(st.st_mtime_ns), "linkTarget": target}

    def _not_found(self, path: str, ref: str) -> NotFound:
        return NotFound(f"Could not find the file {path} in container {ref}")

    def stat(self, ref: str, path: str) -> dict[str, Any]:
        rec = self._store.resolve(ref)
        path = _abs(path)

        def work(root_fd: int) -> Iterator[dict[str, Any]]:
            yield self._stat_of(root_fd, path)

        try:
            return next(iter(self._run(rec, work, writable=False)))
        except (FileNotFoundError, NotADirectoryError):
            raise self._not_found(path, ref) from None

    def get(self, ref: str, path: str) -> tuple[dict[str, Any], Iterator[bytes]]:
        """The stat of ``path`` (before any byte is sent) and its tar stream."""
        rec = self._store.resolve(ref)
        path = _abs(path)

        def work(root_fd: int) -> Iterator[Any]:
            info = self._stat_of(root_fd, path)
            yield info
            # "dir/." copies the contents: the archive's top entry is "."
            base = "." if path.endswith("/.") else info["name"] if info["name"] != "/" else "."
            with walk.resolve(root_fd, path) as r:
                yield from tar_chunks(r, base)

        items = self._run(rec, work, writable=False)
        try:
            info = next(items)
        except (FileNotFoundError, NotADirectoryError):
            raise self._not_found(path, ref) from None
        except StopIteration:
            raise self._not_found(path, ref) from None
        return info, items

    # ------------------------------------------------------------ put
    def put(self, ref: str, path: str, body: BinaryIO, *, no_overwrite_dir_non_dir: bool = False,
            copy_uidgid: bool = False) -> None:
        rec = self._store.resolve(ref)
        path = _abs(path)
        ro_mounts = [dest for dest, _m, ro in self._mounts_for(rec) if ro]
        rw_mounts = [dest for dest, _m, ro in self._mounts_for(rec) if not ro]

        def work(root_fd: int) -> Iterator[None]:
            with walk.resolve(root_fd, path, follow_last=True) as r:
                if r.st is None:
                    raise FileNotFoundError(path)
                if not stat.S_ISDIR(r.st.st_mode):
                    raise InvalidArgument("extraction point is not a directory")
                dest = r.parts
            resolved = "/" + "/".join(dest)
            if _under(resolved, ro_mounts):
                raise PermissionDenied("mounted volume is marked read-only")
            if rec.config.host_config_json.get("ReadonlyRootfs") and not _under(resolved, rw_mounts):
                raise PermissionDenied("container rootfs is marked read-only")
            owner = self._owner(root_fd, rec) if copy_uidgid else None
            extract(root_fd, dest, body, no_overwrite_dir_non_dir=no_overwrite_dir_non_dir, owner=owner)
            yield None

        try:
            for _ in self._run(rec, work, writable=True):
                pass
        except (FileNotFoundError, NotADirectoryError):
            raise self._not_found(path, ref) from None
        except EngineError:
            raise
        except OSError as exc:
            raise InvalidArgument(f"error extracting to {path}: {exc.strerror or exc}") from None

    @staticmethod
    def _owner(root_fd: int, rec: ContainerRecord) -> tuple[int, int] | None:
        """copyUIDGID: the container's user (moby tarCopyOptions); root when it has none."""
        from dockyard.daemon.users import resolve_user

        user = rec.config.user
        if not user:
            return None

        def read(p: str) -> bytes | None:
            try:
                with walk.resolve(root_fd, p, follow_last=True) as r:
                    fd = r.open(os.O_RDONLY)
                with os.fdopen(fd, "rb") as f:
                    return f.read(1 << 20)
            except OSError:
                return None

        u = resolve_user(user, read("/etc/passwd"), read("/etc/group"))
        return u.uid, u.gid


def _abs(path: str) -> str:
    if not path:
        raise InvalidArgument("path must not be empty")
    return path if path.startswith("/") else "/" + path


def _under(path: str, mounts: Sequence[str]) -> bool:
    return any(path == m or path.startswith(m.rstrip("/") + "/") for m in mounts)
