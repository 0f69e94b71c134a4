"""ContainerService's removals: prune, remove, and ``_purge`` (every trace
of a container: runtime state, snapshot, files, row, in-memory bookkeeping),
with ``_await_stopped``, the wait they and stop/kill share.

Functions of the service (``svc``), bound as its methods in
``containers.py``.  See ``containers.py`` for the threading rules.
"""

from __future__ import annotations

import shutil
import signal as signals
import time
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from dockyard.core import lifecycle
from dockyard.core.containers import Status
from dockyard.core.events import CONTAINER, Event
from dockyard.core.lifecycle import Action
from dockyard.core.timefmt import parse_rfc3339
from dockyard.daemon.services.container_control import RUNNING
from dockyard.errors import Conflict, NotFound, NotModified

if TYPE_CHECKING:
    from dockyard.daemon.services.containers import ContainerService


def prune(svc: ContainerService, filters: Mapping[str, Sequence[str]] | None = None) -> dict[str, Any]:
    """Remove every stopped container matching ``until`` / ``label`` / ``label!``."""
    from dockyard.daemon import prunefilters

    match = prunefilters.compile(filters or {}, now=time.time())
    deleted: list[str] = []
    reclaimed = 0
    for rec in svc._store.list():
        if rec.state.status in RUNNING or rec.state.status is Status.REMOVING:
            continue
        if not match(parse_rfc3339(rec.config.created), rec.config.labels):
            continue
        rw = svc.size_of(rec)[0]
        try:
            svc._remove(rec.id, force=False)
        except (Conflict, NotFound, NotModified):
            continue  # started or removed meanwhile
        deleted.append(rec.id)
        reclaimed += rw
    svc._events.publish(Event(CONTAINER, "prune", "", {"reclaimed": str(reclaimed)}))
    return {"ContainersDeleted": deleted or None, "SpaceReclaimed": reclaimed}


def remove(svc: ContainerService, ref: str, *, force: bool = False, volumes: bool = False) -> None:
    id = svc._store.resolve(ref).id
    svc._remove(id, force=force, ref=ref, volumes=volumes)


def _remove(svc: ContainerService, id: str, *, force: bool, ref: str = "", volumes: bool = False) -> None:
    with svc._lock(id):
        rec = svc._store.get(id)
        action = Action.FORCE_REMOVE if force else Action.REMOVE
        lifecycle.transition(rec.state.status, action, ref=ref or "/" + rec.name)
        if rec.state.status in RUNNING:
            with svc._cond:
                svc._stopping.add(id)
            svc._publish(rec, "kill", signal=str(int(signals.SIGKILL)))
            try:
                svc._runtime.kill(id, signals.SIGKILL)
            except (NotFound, Conflict):
                pass  # exited meanwhile (or restarting): nothing to kill
            if rec.state.status is Status.PAUSED:
                svc._runtime.resume(id)
            svc._await_stopped(id, timeout=15.0)
        rec = svc._store.get(id)
        svc._save(id, rec.state.evolve(status=Status.REMOVING))
        svc._purge(id, exit_code=rec.state.exit_code)
        if svc._volumes is not None:  # rm -v, and --rm (auto-remove), take anonymous volumes along
            svc._volumes.forget(rec.config, volumes or rec.config.auto_remove)
        svc._publish(rec, "destroy")


def _await_stopped(svc: ContainerService, id: str, timeout: float) -> bool:
    """True once ``id`` is not running (or gone); False after ``timeout``."""
    deadline = time.monotonic() + timeout
    with svc._cond:
        while True:
            try:
                if svc._store.get(id).state.status not in RUNNING:
                    return True
            except NotFound:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            svc._cond.wait(timeout=min(left, 0.1))


def _purge(svc: ContainerService, id: str, exit_code: int = 0, publish: bool = True) -> None:
    """Remove every trace of ``id``: runtime state, snapshot, files, row."""
    svc._runtime.delete(id)
    if svc._network is not None:
        svc._network.forget(id)
    svc._images.remove_rootfs(id)
    shutil.rmtree(svc._bundle(id), ignore_errors=True)
    shutil.rmtree(svc._dir(id), ignore_errors=True)
    try:
        svc._store.delete(id)
    except NotFound:
        pass
    with svc._cond:
        hub = svc._hubs.pop(id, None)
        stdin = svc._stdins.pop(id, None)
        svc._exits.pop(id, None)
        svc._locks.pop(id, None)
        svc._stopping.discard(id)
        if svc.health is not None:
            svc.health.forget(id)
        svc._removed[id] = exit_code
        if len(svc._removed) > 1024:  # bounded: only recent removals are waited on
            svc._removed.pop(next(iter(svc._removed)))
        svc._cond.notify_all()
    if hub is not None:
        hub.end()
    if stdin is not None:
        stdin.disconnect()
