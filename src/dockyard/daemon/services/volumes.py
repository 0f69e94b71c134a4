"""VolumeService: named and anonymous volumes, and every container mount.

API side: create / list / inspect / remove / prune (``/volumes``) with
Docker's shapes and errors; a volume is *in use* while any container record
(running or not) mounts it, exactly as Docker counts references, so
``volume rm`` of a used volume is a 409 and never touches its data.

Container side (hooks called by ``ContainerService``):

* ``plan``  (create, before the row): HostConfig → ``MountPoint``s kept in
  ``ContainerConfig.mounts``; all validation happens here, nothing is made;
* ``claim`` (create, after the row): named and anonymous volumes created;
* ``spec_mounts`` (start): copy-up of image content into empty volumes,
  then the OCI mounts (volumes, binds, tmpfs) in mounting order;
* ``forget`` (remove): anonymous volumes go with ``rm -v`` / ``--rm``.
"""

from __future__ import annotations

import os
import secrets
import stat
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator, Mapping, Sequence, cast

from dockyard.core.chunks import ChunkReader
from dockyard.core.containers import ContainerConfig, ContainerRecord, ContainerStore
from dockyard.core.events import Event, EventBus, NullEventBus
from dockyard.core.mount import Mount
from dockyard.core.timefmt import rfc3339_ns
from dockyard.core.volumes import MountPoint, Volume, VolumeDriver, VolumeStore
from dockyard.daemon import mountspecs
from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.oci import runtime as oci

VOLUME = "volume"


def mount_points(config: ContainerConfig) -> list[MountPoint]:
    return [MountPoint.from_json(m) for m in getattr(config, "mounts", ()) or ()]


class VolumeService:
    def __init__(self, store: VolumeStore, driver: VolumeDriver, containers: ContainerStore,
                 events: EventBus | None = None, driver_root: Path | None = None) -> None:
        self._store = store
        self._driver = driver
        self._containers = containers
        self._events: EventBus = events or NullEventBus()
        self._root = Path(driver_root) if driver_root else Path(getattr(driver, "root", "/"))

    # ------------------------------------------------------------ helpers
    def _publish(self, action: str, name: str, **attrs: str) -> None:
        self._events.publish(Event(VOLUME, action, name, {"driver": self._driver.name, **attrs}))

    def _json(self, v: Volume, usage: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"CreatedAt": v.created_at, "Driver": v.driver, "Labels": dict(v.labels) or None,
                               "Mountpoint": v.mountpoint, "Name": v.name, "Options": dict(v.options) or None,
                               "Scope": "local"}
        if usage:
            out["UsageData"] = {"Size": self._driver.usage(v.name) if not v.options else -1,
                                "RefCount": len(self.users(v.name))}
        return out

    def users(self, name: str) -> list[str]:
        """Ids of the containers (any state) whose mounts use volume ``name``."""
        return [r.id for r in self._containers.list()
                if any(m.type == "volume" and m.name == name for m in mount_points(r.config))]

    def _ensure(self, name: str, options: Mapping[str, str], labels: Mapping[str, str],
                anonymous: bool = False) -> Volume:
        try:
            return self._store.get(name)
        except NotFound:
            pass
        mountpoint = self._driver.create(name, options)
        vol = Volume(name=name, driver=self._driver.name, mountpoint=mountpoint,
                     created_at=rfc3339_ns()[:19] + "Z", labels=dict(labels), options=dict(options),
                     anonymous=anonymous)
        stored = self._store.create(vol)
        if stored is vol:
            self._publish("create", name)
        return stored

    # ------------------------------------------------------------ API
    def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise InvalidArgument("invalid JSON: volume create body must be an object")
        name = body.get("Name") or secrets.token_hex(32)
        driver = body.get("Driver") or "local"
        if driver != self._driver.name:
            raise NotFound(f"create {name}: error looking up volume plugin {driver}: plugin \"{driver}\" not found")
        if not isinstance(name, str):
            raise InvalidArgument("invalid JSON: Name must be a string")
        mountspecs_ok = mountspecs.VOLUME_NAME.match(name)
        if not mountspecs_ok:
            raise InvalidArgument(f"create {name}: volume name is too short, names should be at least two "
                                  "alphanumeric characters" if len(name) < 2 else
                                  f"create {name}: \"{name}\" includes invalid characters for a local volume "
                                  "name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to "
                                  "pass a host directory, use absolute path")
        opts = body.get("DriverOpts") or {}
        labels = body.get("Labels") or {}
        if not isinstance(opts, dict) or not isinstance(labels, dict):
            raise InvalidArgument("invalid JSON: DriverOpts and Labels must be objects")
        try:
            existing = self._store.get(name)
        except NotFound:
            existing = None
        if existing is not None:
            if opts and dict(existing.options) != opts:
                raise Conflict(f"create {name}: volume name {name} already in use with different options")
            return self._json(existing)
        try:
            return self._json(self._ensure(name, {str(k): str(v) for k, v in opts.items()},
                                           {str(k): str(v) for k, v in labels.items()}))
        except InvalidArgument as exc:
            raise InvalidArgument(f"create {name}: {exc.message}") from None

    def inspect_json(self, name: str) -> dict[str, Any]:
        return self._json(self._store.get(name))

    def list_json(self, filters: Mapping[str, Sequence[str]] | None = None) -> dict[str, Any]:
        f = filters or {}
        for key in f:
            if key not in ("name", "driver", "label", "dangling"):
                raise InvalidArgument(f"invalid filter '{key}'")
        out = []
        used = self._used_names() if "dangling" in f else set()
        for v in self._store.list():
            if f.get("name") and not any(n in v.name for n in f["name"]):
                continue
            if f.get("driver") and v.driver not in f["driver"]:
                continue
            if f.get("label") and not all(_label_match(v.labels, lab) for lab in f["label"]):
                continue
            if f.get("dangling"):
                want = f["dangling"][-1].lower() in ("1", "true")
                if (v.name not in used) != want:
                    continue
            out.append(self._json(v))
        return {"Volumes": out, "Warnings": None}

    def _used_names(self) -> set[str]:
        return {m.name for r in self._containers.list() for m in mount_points(r.config) if m.type == "volume"}

    def remove(self, name: str, force: bool = False) -> None:
        try:
            vol = self._store.get(name)
        except NotFound:
            if force:
                return
            raise
        users = self.users(name)
        if users:
            raise Conflict(f"remove {name}: volume is in use - [{', '.join(users)}]")
        self._store.delete(name)  # the record first: a crash leaves orphan data, never a record without data
        self._driver.remove(vol.name)
        self._publish("destroy", name)

    def prune(self, filters: Mapping[str, Sequence[str]] | None = None, api_version: str = "1.47") -> dict[str, Any]:
        """Unused volumes; only anonymous ones from API 1.42 on unless ``all=true`` (Docker 23+)."""
        from dockyard.wire.versions import compare

        f = dict(filters or {})
        all_volumes = compare(api_version, "1.42") < 0 or any(v.lower() in ("1", "true") for v in f.pop("all", []))
        used = self._used_names()
        deleted, reclaimed = [], 0
        for v in self._store.list():
            if v.name in used or (not all_volumes and not v.anonymous):
                continue
            if f.get("label") and not all(_label_match(v.labels, lab) for lab in f["label"]):
                continue
            if f.get("label!") and any(_label_match(v.labels, lab) for lab in f["label!"]):
                continue
            size = self._driver.usage(v.name) if not v.options else 0
            try:
                self.remove(v.name)
            except (Conflict, NotFound):
                continue
            deleted.append(v.name)
            reclaimed += max(size, 0)
        self._events.publish(Event(VOLUME, "prune", "", {"reclaimed": str(reclaimed)}))
        return {"VolumesDeleted": deleted or None, "SpaceReclaimed": reclaimed}

    def df_json(self) -> list[dict[str, Any]]:
        return [self._json(v, usage=True) for v in self._store.list()]

    # ------------------------------------------------------------ container hooks
    def plan(self, config: ContainerConfig, image_volumes: Sequence[str]) -> ContainerConfig:
        """Validate the container's mounts and record them in its config (nothing created yet)."""
        host = config.host_config_json
        points = mountspecs.parse_host_config(host, [], [], os.path.exists)
        for spec in host.get("VolumesFrom") or []:
            points = mountspecs.with_volumes_from(points, spec, self._mounts_of)
        # then Config.Volumes and the image's VOLUMEs not already mounted: anonymous volumes
        points = _merge_image(points, [*(config.config_json.get("Volumes") or {}).keys(), *image_volumes])
        named = []
        for p in points:
            if p.type == "volume":
                name = p.name or secrets.token_hex(32)
                p = replace(p, name=name, source=str(self._root / name / "_data"), driver=self._driver.name)
            named.append(p)
        return replace(config, mounts=tuple(p.to_json() for p in named))

    def _mounts_of(self, ref: str) -> list[MountPoint]:
        return mount_points(self._containers.resolve(ref).config)

    def claim(self, config: ContainerConfig) -> None:
        """Create the volumes the container names (idempotent)."""
        for p in mount_points(config):
            if p.type == "volume":
                try:
                    self._ensure(p.name, p.volume_options, p.volume_labels, anonymous=p.anonymous)
                except InvalidArgument as exc:
                    raise InvalidArgument(f"create {p.name}: {exc.message}") from None

    def spec_mounts(self, config: ContainerConfig, rootfs: Sequence[Mount]) -> list[oci.Mount]:
        """At start: copy-up into empty volumes, then the OCI mounts in mounting order."""
        out = []
        for p in mountspecs.sort_for_mounting(mount_points(config)):
            if p.type == "tmpfs":
                out.append(oci.Mount(p.destination, "tmpfs", "tmpfs", mountspecs.tmpfs_options(p)))
                continue
            if p.type == "bind":
                if not os.path.exists(p.source):
                    if not p.create_source:
                        raise InvalidArgument(f"invalid mount config for type \"bind\": bind source path does "
                                              f"not exist: {p.source}")
                    os.makedirs(p.source, exist_ok=True)  # -v creates a missing host directory, as Docker
                opts = ("rbind", p.propagation or "rprivate") + (() if p.rw else ("ro",))
                out.append(oci.Mount(p.destination, "bind", p.source, opts))
                continue
            vol = self._store.get(p.name)
            if p.copy_data and not vol.options:
                copy_up(rootfs, p.destination, Path(vol.mountpoint))
            m = self._driver.mount(vol.name, vol.options, config.id)
            opts = tuple(m.options) + (() if m.type != "bind" else ("rprivate",)) + (() if p.rw else ("ro",))
            out.append(oci.Mount(p.destination, m.type, m.source, opts))
            self._publish("mount", vol.name, container=config.id, destination=p.destination,
                          propagation=p.propagation, **{"read/write": str(p.rw).lower()})
        return out

    def mounts_for(self, rec: ContainerRecord) -> list[tuple[str, Mount, bool]]:
        """(destination, Mount, read-only) of the volumes and binds, for ``cp`` on a stopped container."""
        out = []
        for p in mountspecs.sort_for_mounting(mount_points(rec.config)):
            if p.type == "bind" and os.path.exists(p.source):
                out.append((p.destination, Mount("bind", p.source, options=("rbind",)), not p.rw))
            elif p.type == "volume":
                try:
                    vol = self._store.get(p.name)
                    out.append((p.destination, self._driver.mount(vol.name, vol.options, rec.id), not p.rw))
                except (NotFound, InvalidArgument):
                    continue
        return out

    def forget(self, config: ContainerConfig, remove_anonymous: bool) -> None:
        """The container is gone: with ``rm -v``/``--rm`` its anonymous volumes go too (unless still used)."""
        if not remove_anonymous:
            return
        for p in mount_points(config):
            if p.type == "volume" and p.anonymous:
                try:
                    vol = self._store.get(p.name)
                    if vol.anonymous:
                        self.remove(p.name)
                except (NotFound, Conflict):
                    continue


def _merge_image(points: list[MountPoint], image_volumes: Sequence[str]) -> list[MountPoint]:
    taken = {p.destination for p in points}
    out = list(points)
    for dest in image_volumes:
        if not dest.startswith("/"):
            continue
        clean = os.path.normpath(dest)
        if clean in taken or clean == "/":
            continue
        taken.add(clean)
        out.append(MountPoint("volume", clean, driver="local", mode="", anonymous=True))
    return out


def _label_match(labels: Mapping[str, str], spec: str) -> bool:
    key, sep, value = spec.partition("=")
    return key in labels and (not sep or labels[key] == value)


def copy_up(rootfs: Sequence[Mount], destination: str, data: Path) -> None:
    """Docker's copy-up: the image's content at ``destination`` into an empty volume."""
    try:
        if any(os.scandir(data)):
            return
    except OSError:
        return
    layers = _layers(rootfs)
    if layers:
        from dockyard.image.rootfs import lookup

        st = lookup(layers, [c for c in destination.split("/") if c])
        if st is None or not stat.S_ISDIR(st.st_mode):
            return  # nothing there in the image (a symlinked parent is not followed by this quick check)
    from dockyard.daemon.cp import rootns, walk
    from dockyard.daemon.cp.extract import extract
    from dockyard.daemon.cp.tarout import tar_chunks

    def work(scratch: str) -> Iterator[None]:
        root = os.open(scratch, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        vol = os.open(data, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            with walk.resolve(root, destination, follow_last=True) as r:
                if r.st is None or not stat.S_ISDIR(r.st.st_mode):
                    return
                # ChunkReader is a read-only binary file; typeshed's RawIOBase is no BinaryIO
                extract(vol, [], cast(BinaryIO, ChunkReader(tar_chunks(r, "."))))
                os.chown(data, r.st.st_uid, r.st.st_gid)
                os.chmod(data, stat.S_IMODE(r.st.st_mode))
        finally:
            os.close(root)
            os.close(vol)
        yield None

    for _ in rootns.stream(rootfs, [], work, readonly=True):
        pass


def _layers(rootfs: Sequence[Mount]) -> list[str]:
    for m in rootfs:
        if m.type == "overlay":
            opts = dict(o.split("=", 1) for o in m.options if "=" in o)
            return [x for x in (opts.get("upperdir", ""), *opts.get("lowerdir", "").split(":")) if x]
        if m.type == "bind":
            return [m.source]
    return []
