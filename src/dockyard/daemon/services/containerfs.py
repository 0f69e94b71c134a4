"""A container's filesystem as data: ``changes`` (docker diff), ``export``, ``commit``.

Composed from the container store (to resolve the container), the image
service's snapshotter (a container's active snapshot is keyed by its id; its
mounts name the upper dir and the lower dirs) and ``ImageTransfer`` (to make
the committed image).  Nothing is mounted: ``image.diff`` and
``image.flatten`` read the layer directories directly.

Commit pauses a running container by default, as Docker does, so the layer
is a consistent snapshot; a container the user had paused stays paused.
"""

from __future__ import annotations

import json
from typing import Any, Iterator, Mapping, Protocol, Sequence

from dockyard.core.containers import ContainerRecord, ContainerStore, Status
from dockyard.core.snapshots import Snapshotter, layer_dirs, upper_dir
from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.image import diff, flatten
from dockyard.image.changes import apply_changes
from dockyard.image.transfer import ImageTransfer, NewImage, image_name, now


class Pauser(Protocol):
    def pause(self, ref: str) -> None: ...

    def unpause(self, ref: str) -> None: ...


class ContainerFsService:
    def __init__(self, store: ContainerStore, snapshotter: Snapshotter, transfer: ImageTransfer,
                 pauser: Pauser | None = None, remap: Any = None) -> None:
        self._store = store
        self._remap = remap  # --userns-remap (daemon/usernsremap.py): commits record the container's ids
        self._snapshotter = snapshotter
        self._transfer = transfer
        self._pauser = pauser

    def _dirs(self, ref: str) -> tuple[ContainerRecord, str, list[str]]:
        """(record, upper dir, lower dirs top first)."""
        rec = self._store.resolve(ref)
        if rec.state.status is Status.REMOVING:
            raise Conflict(f"container {rec.id} is marked for removal and cannot be used")
        try:
            mounts = self._snapshotter.mounts(rec.id)
        except NotFound:
            raise NotFound(f"container {rec.id} has no filesystem") from None
        dirs = layer_dirs(mounts)
        upper = upper_dir(mounts)
        return rec, upper, [d for d in dirs if d != upper]

    def changes(self, ref: str) -> list[dict[str, Any]]:
        """``GET /containers/{id}/changes``."""
        _, upper, lowers = self._dirs(ref)
        return [c.to_json() for c in diff.changes(upper, lowers)]

    def export(self, ref: str) -> Iterator[bytes]:
        """``GET /containers/{id}/export``: the merged filesystem; the container is resolved before streaming."""
        _, upper, lowers = self._dirs(ref)
        return flatten.export_chunks([upper, *lowers])

    def commit(self, ref: str, *, repo: str = "", tag: str = "", author: str = "", comment: str = "",
               changes: Sequence[str] = (), pause: bool = True, config: Mapping[str, Any] | None = None) -> str:
        """``POST /commit``: a new image from the container's changes; its id."""
        rec, upper, lowers = self._dirs(ref)
        if repo == "" and tag:
            raise InvalidArgument("tag is specified without repository")
        paused = False
        if pause and rec.state.status is Status.RUNNING and self._pauser is not None:
            self._pauser.pause(rec.id)
            paused = True
        try:
            return self._commit(rec, upper, lowers, repo, tag, author, comment, changes, config)
        finally:
            if paused:
                self._pauser.unpause(rec.id)  # type: ignore[union-attr]

    def _commit(self, rec: ContainerRecord, upper: str, lowers: list[str], repo: str, tag: str, author: str,
                comment: str, changes: Sequence[str], body: Mapping[str, Any] | None) -> str:
        images = self._transfer.images
        parent = images.resolve(rec.config.image_id)
        container_cfg = dict(rec.config.config_json)
        run_cfg = merge(apply_changes(dict(body) if body else container_cfg, changes), container_cfg)
        created = now()
        cfg = json.loads(json.dumps(dict(parent.raw_config)))
        cfg.update({"config": run_cfg, "container": rec.id, "container_config": container_cfg, "created": created})
        for key, value in (("author", author), ("comment", comment)):
            if value:
                cfg[key] = value
            else:
                cfg.pop(key, None)
        history = {"created": created, "created_by": " ".join(container_cfg.get("Cmd") or [])}
        if author:
            history["author"] = author
        if comment:
            history["comment"] = comment
        items = diff.plan(upper, lowers)
        ids = None
        if self._remap is not None:
            from functools import partial

            from dockyard.daemon.usernsremap import container_ids, wanted

            ids = partial(container_ids, self._remap) if wanted(rec.config.host_config_json, self._remap) else None
        layer = diff.layer_chunks(upper, lowers, items=items, ids=ids) if items else None
        names = (image_name(repo, tag),) if repo else ()
        return self._transfer.create(layer, NewImage(cfg, history, names, parent=parent.id))


def merge(user: dict[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    """moby's ``merge(userConf, imageConf)``: fill what the user left empty from the container's config."""
    out = dict(user)
    for key in ("User", "WorkingDir", "StopSignal", "Hostname", "Domainname", "Image"):
        if not out.get(key) and base.get(key):
            out[key] = base[key]
    env = list(out.get("Env") or [])
    keys = {e.partition("=")[0] for e in env}
    env += [e for e in base.get("Env") or [] if e.partition("=")[0] not in keys]
    if env:
        out["Env"] = env
    for key in ("Labels", "ExposedPorts", "Volumes"):
        merged = {**(base.get(key) or {}), **(out.get(key) or {})}
        if merged:
            out[key] = merged
    if not out.get("Entrypoint") and not out.get("Cmd"):
        for key in ("Entrypoint", "Cmd"):
            if base.get(key):
                out[key] = base[key]
    return out
