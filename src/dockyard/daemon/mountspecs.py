"""HostConfig ``Binds`` / ``Mounts`` / ``Tmpfs`` + ``Config.Volumes`` + the
image's ``VOLUME`` → ``MountPoint``s (pure).

Validation and messages follow moby ``volume/mounts/linux_parser.go``
(``ParseMountRaw`` for ``-v`` strings, ``validateMountConfig`` for ``--mount``
objects) and ``daemon/volumes.go`` (duplicates, image volumes shadowed by the
user's).  Anonymous volumes get ``name=""``; the volume service names them.
``exists`` is the only outside fact (does a bind source exist), passed in.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any, Callable, Iterable, Mapping

from dockyard.core.volumes import MountPoint
from dockyard.errors import InvalidArgument

VOLUME_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
PROPAGATION = ("shared", "rshared", "slave", "rslave", "private", "rprivate")
_LABEL = ("z", "Z")
_CONSISTENCY = ("consistent", "cached", "delegated")
DEFAULT_TMPFS = ("noexec", "nosuid", "nodev")


def _spec_error(spec: str) -> InvalidArgument:
    return InvalidArgument(f"invalid volume specification: '{spec}'")


def _config_error(type: str, msg: str) -> InvalidArgument:
    return InvalidArgument(f"invalid mount config for type \"{type}\": {msg}")


def valid_mode(mode: str) -> bool:
    """moby ValidMountMode: at most one of each kind (rw/ro, label, propagation, copy, consistency)."""
    counts = {"rw": 0, "label": 0, "prop": 0, "copy": 0, "cons": 0}
    for m in mode.split(","):
        kind = ("rw" if m in ("rw", "ro") else "label" if m in _LABEL else "prop" if m in PROPAGATION
                else "copy" if m == "nocopy" else "cons" if m in _CONSISTENCY else "")
        if not kind:
            return False
        counts[kind] += 1
    return all(n <= 1 for n in counts.values())


def _check_destination(type: str, dest: str) -> str:
    if not dest.startswith("/"):
        raise _config_error(type, f"invalid mount path: '{dest}' mount path must be absolute")
    clean = posixpath.normpath(dest)
    if clean == "/":
        raise InvalidArgument("invalid specification: destination can't be '/'")
    return clean


def _check_volume_name(name: str) -> None:
    if not VOLUME_NAME.match(name):
        raise InvalidArgument(
            f"\"{name}\" includes invalid characters for a local volume name, only "
            "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path")


def parse_bind(spec: str) -> MountPoint:
    """One ``-v`` / ``Binds`` string: ``[src:]dst[:mode]``."""
    if not spec or spec.count(":") > 2:
        raise _spec_error(spec)
    arr = spec.split(":")
    if any(not a for a in arr):
        raise _spec_error(spec)
    src, mode = "", ""
    if len(arr) == 1:
        dst = arr[0]
    elif len(arr) == 2:
        if valid_mode(arr[1]):
            raise _spec_error(spec)  # "/foo:rw": an anonymous volume cannot take a mode
        src, dst = arr
    else:
        src, dst, mode = arr
        if not valid_mode(mode):
            raise InvalidArgument(f"invalid mode: {mode}")
    modes = mode.split(",") if mode else []
    rw = "ro" not in modes
    propagation = next((m for m in modes if m in PROPAGATION), "")
    if src.startswith("/"):
        if "nocopy" in modes:
            raise InvalidArgument(f"invalid mode: {mode}")
        return MountPoint("bind", _check_destination("bind", dst), source=posixpath.normpath(src), rw=rw,
                          mode=mode, propagation=propagation or "rprivate", create_source=True)
    dest = _check_destination("volume", dst)
    if propagation:
        raise InvalidArgument(f"invalid mode: {mode}")  # propagation applies to binds only
    if src:
        _check_volume_name(src)
    return MountPoint("volume", dest, name=src, driver="local", rw=rw, mode=mode or "z",
                      copy_data="nocopy" not in modes, anonymous=not src)


def _size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _config_error("tmpfs", "invalid tmpfs size")
    return value


def parse_mount(obj: Any) -> MountPoint:
    """One ``HostConfig.Mounts`` object (``--mount``), moby validateMountConfig."""
    if not isinstance(obj, dict):
        raise InvalidArgument("invalid Mounts: each mount must be an object")
    type = obj.get("Type") or ""
    target = obj.get("Target") or ""
    source = obj.get("Source") or ""
    ro = bool(obj.get("ReadOnly"))
    bind, vol, tmpfs = obj.get("BindOptions"), obj.get("VolumeOptions"), obj.get("TmpfsOptions")
    if type not in ("bind", "volume", "tmpfs"):
        raise _config_error(type, "mount type unknown")
    if not target:
        raise _config_error(type, "field Target must not be empty")
    dest = _check_destination(type, target)
    for field, value, allowed in (("BindOptions", bind, "bind"), ("VolumeOptions", vol, "volume"),
                                  ("TmpfsOptions", tmpfs, "tmpfs")):
        if value and type != allowed:
            raise _config_error(type, f"field {field} must not be specified")
    if type == "bind":
        if not source:
            raise _config_error(type, "field Source must not be empty")
        if not source.startswith("/"):
            raise _config_error(type, f"invalid mount path: '{source}' mount path must be absolute")
        prop = (bind or {}).get("Propagation") or "rprivate"
        if prop not in PROPAGATION:
            raise _config_error(type, f"invalid propagation mode: {prop}")
        return MountPoint("bind", dest, source=posixpath.normpath(source), rw=not ro, propagation=prop)
    if type == "tmpfs":
        if source:
            raise _config_error(type, "field Source must not be specified")
        opts: list[str] = []
        if tmpfs:
            if tmpfs.get("SizeBytes"):
                opts.append(f"size={_size(tmpfs['SizeBytes'])}")
            if tmpfs.get("Mode"):
                opts.append(f"mode={_size(tmpfs['Mode']) & 0o7777:o}")
        return MountPoint("tmpfs", dest, rw=not ro, options=tuple(opts))
    vol = vol or {}
    if source:
        _check_volume_name(source)
    driver = (vol.get("DriverConfig") or {}).get("Name") or "local"
    if driver != "local":
        raise InvalidArgument(f"error looking up volume plugin {driver}: plugin \"{driver}\" not found")
    options = (vol.get("DriverConfig") or {}).get("Options") or {}
    return MountPoint("volume", dest, name=source, driver="local", rw=not ro, mode="z",
                      copy_data=not vol.get("NoCopy"), volume_options=dict(options),
                      volume_labels=dict(vol.get("Labels") or {}), anonymous=not source)


def parse_tmpfs(dest: str, data: str) -> MountPoint:
    """``HostConfig.Tmpfs`` entry: ``{"/run": "size=64m,mode=1777"}``."""
    return MountPoint("tmpfs", _check_destination("tmpfs", dest),
                      options=tuple(o for o in (data or "").split(",") if o))


def tmpfs_options(mp: MountPoint) -> tuple[str, ...]:
    """Docker's defaults (noexec,nosuid,nodev) then the user's; a later word wins (MergeTmpfsOptions)."""
    out: dict[str, str] = {}
    for opt in (*DEFAULT_TMPFS, *mp.options):
        key = opt.split("=", 1)[0]
        if key in DEFAULT_TMPFS:
            key = key[2:]  # "noexec" and "exec" are one setting
        out.pop(key, None)
        out[key] = opt
    if not mp.rw:
        out["ro"] = "ro"
    return tuple(out.values())


def parse_host_config(host: Mapping[str, Any], config_volumes: Iterable[str], image_volumes: Iterable[str],
                      exists: Callable[[str], bool]) -> list[MountPoint]:
    """Every mount the user asked for, then the image's and Config's anonymous
    volumes not shadowed by one; Duplicate mount point for the same target twice."""
    points: list[MountPoint] = []
    binds = host.get("Binds") or []
    mounts = host.get("Mounts") or []
    tmpfs = host.get("Tmpfs") or {}
    if not isinstance(binds, list) or not all(isinstance(b, str) for b in binds):
        raise InvalidArgument("invalid Binds: must be an array of strings")
    if not isinstance(mounts, list):
        raise InvalidArgument("invalid Mounts: must be an array")
    if not isinstance(tmpfs, dict):
        raise InvalidArgument("invalid Tmpfs: must be an object")
    for spec in binds:
        points.append(parse_bind(spec))
    for obj in mounts:
        mp = parse_mount(obj)
        if mp.type == "bind" and not exists(mp.source):
            raise _config_error("bind", f"bind source path does not exist: {mp.source}")
        points.append(mp)
    for dest, data in tmpfs.items():
        points.append(parse_tmpfs(dest, str(data or "")))
    seen: set[str] = set()
    for mp in points:
        if mp.destination in seen:
            raise InvalidArgument(f"Duplicate mount point: {mp.destination}")
        seen.add(mp.destination)
    for dest in (*config_volumes, *image_volumes):
        clean = posixpath.normpath(dest) if dest.startswith("/") else ""
        if not clean:
            raise _config_error("volume", f"invalid mount path: '{dest}' mount path must be absolute")
        if clean in seen or clean == "/":
            continue
        seen.add(clean)
        points.append(MountPoint("volume", clean, driver="local", mode="", anonymous=True))
    return points


def with_volumes_from(points: list[MountPoint], spec: str,
                      lookup: Callable[[str], list[MountPoint]]) -> list[MountPoint]:
    """``--volumes-from container[:ro|rw]``: the other container's volumes and binds, ours win."""
    ref, _, mode = spec.partition(":")
    if mode and mode not in ("ro", "rw"):
        raise InvalidArgument(f"invalid mode for volumes-from: {mode}")
    taken = {p.destination for p in points}
    out = list(points)
    for mp in lookup(ref):
        if mp.type == "tmpfs" or mp.destination in taken:
            continue
        from dataclasses import replace

        rw = mp.rw if not mode else mode == "rw"
        out.append(replace(mp, rw=rw, anonymous=False, create_source=False,
                           mode=(mode or mp.mode) if mp.type == "bind" else mp.mode))
        taken.add(mp.destination)
    return out


def sort_for_mounting(points: list[MountPoint]) -> list[MountPoint]:
    """Parents before children (moby sortMounts: by number of path components)."""
    return sorted(points, key=lambda p: len([c for c in p.destination.split("/") if c]))
