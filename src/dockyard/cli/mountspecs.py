"""``-v``, ``--mount``, ``--tmpfs``, ``--volumes-from`` → parts of the create body (pure).

As the docker CLI (``cli/command/container/opts.go``, ``opts/mount.go``):
``-v /path`` alone is an anonymous volume (``Config.Volumes``), anything with
a ``:`` goes to ``HostConfig.Binds`` unchanged (the daemon validates it);
``--mount`` is CSV ``key=value`` fields turned into a ``Mounts`` object.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class MountSpecError(ValueError):
    pass


_TRUE = ("", "1", "true", "True")
_FALSE = ("0", "false", "False")
_UNITS = {"b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def ram_in_bytes(text: str) -> int:
    """docker go-units RAMInBytes: ``64m`` → 67108864 (k/m/g/t/p, optional trailing b)."""
    s = text.strip().lower()
    num = s.rstrip("bkmgtpi")
    suffix = s[len(num):].replace("i", "")
    if suffix.endswith("b") and len(suffix) == 2:
        suffix = suffix[0]
    try:
        value = float(num)
    except ValueError:
        raise MountSpecError(f"invalid size: '{text}'") from None
    if suffix not in ("", *_UNITS):
        raise MountSpecError(f"invalid size: '{text}'")
    return int(value * _UNITS.get(suffix or "b", 1))


def _bool(key: str, value: str) -> bool:
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise MountSpecError(f"invalid value for {key}: {value}")


def parse_mount(value: str) -> dict[str, Any]:
    """One ``--mount`` value → a ``HostConfig.Mounts`` object."""
    import csv

    fields = next(csv.reader([value])) if value else []
    m: dict[str, Any] = {"Type": "volume"}
    vol: dict[str, Any] = {}
    bind: dict[str, Any] = {}
    tmpfs: dict[str, Any] = {}
    for field in fields:
        key, sep, val = field.partition("=")
        key = key.strip().lower()
        if not sep and key not in ("readonly", "ro", "volume-nocopy", "bind-nonrecursive"):
            raise MountSpecError(f"invalid field '{field}' must be a key=value pair")
        if key == "type":
            m["Type"] = val
        elif key in ("source", "src"):
            m["Source"] = val
        elif key in ("target", "dst", "destination"):
            m["Target"] = val
        elif key in ("readonly", "ro"):
            m["ReadOnly"] = _bool(key, val)
        elif key == "consistency":
            m["Consistency"] = val
        elif key == "bind-propagation":
            bind["Propagation"] = val
        elif key == "bind-nonrecursive":
            bind["NonRecursive"] = _bool(key, val)
        elif key == "volume-nocopy":
            vol["NoCopy"] = _bool(key, val)
        elif key == "volume-label":
            k, _, v = val.partition("=")
            vol.setdefault("Labels", {})[k] = v
        elif key == "volume-driver":
            vol.setdefault("DriverConfig", {})["Name"] = val
        elif key == "volume-opt":
            k, s2, v = val.partition("=")
            if not s2:
                raise MountSpecError(f"invalid value for {key}: {val}")
            vol.setdefault("DriverConfig", {}).setdefault("Options", {})[k] = v
        elif key == "tmpfs-size":
            tmpfs["SizeBytes"] = ram_in_bytes(val)
        elif key == "tmpfs-mode":
            try:
                tmpfs["Mode"] = int(val, 8)
            except ValueError:
                raise MountSpecError(f"invalid value for {key}: {val}") from None
        else:
            raise MountSpecError(f"unexpected key '{key}' in '{field}'")
    if not m["Type"]:
        raise MountSpecError("type is required")
    if not m.get("Target"):
        raise MountSpecError("target is required")
    for opts, kind, prefix in ((vol, "volume", "volume-*"), (bind, "bind", "bind-*"), (tmpfs, "tmpfs", "tmpfs-*")):
        if opts:
            if m["Type"] != kind:
                raise MountSpecError(f"cannot mix '{prefix}' options with mount type '{m['Type']}'")
            m[{"volume": "VolumeOptions", "bind": "BindOptions", "tmpfs": "TmpfsOptions"}[kind]] = opts
    return m


def apply(body: dict[str, Any], volumes: list[str], mounts: list[str], tmpfs: list[str],
          volumes_from: list[str]) -> None:
    """Add the mount flags to a create body in place."""
    host = body.setdefault("HostConfig", {})
    binds: list[str] = []
    anon: dict[str, dict[str, Any]] = {}
    for v in volumes:
        if not v:
            raise MountSpecError("invalid empty volume spec")
        if ":" in v:
            binds.append(v)
        else:
            anon[v] = {}
    if binds:
        host["Binds"] = binds
    if anon:
        body["Volumes"] = anon
    if mounts:
        host["Mounts"] = [parse_mount(m) for m in mounts]
    if tmpfs:
        out = {}
        for t in tmpfs:
            dest, _, opts = t.partition(":")
            if not dest:
                raise MountSpecError(f"invalid tmpfs spec: {t}")
            out[dest] = opts
        host["Tmpfs"] = out
    if volumes_from:
        host["VolumesFrom"] = list(volumes_from)


def add_flags(p: Any) -> None:
    p.add_argument("-v", "--volume", action="append", default=[])
    p.add_argument("--mount", action="append", default=[])
    p.add_argument("--tmpfs", action="append", default=[])
    p.add_argument("--volumes-from", action="append", default=[])


def apply_args(body: dict[str, Any], a: Any) -> None:
    apply(body, a.volume, a.mount, a.tmpfs, a.volumes_from)
