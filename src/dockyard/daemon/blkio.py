"""Per-device block I/O limits: HostConfig ``BlkioWeightDevice`` / ``BlkioDevice{Read,Write}{Bps,IOps}``.

Shapes as moby's ``blkiodev.WeightDevice`` (Path, Weight) and ``ThrottleDevice``
(Path, Rate).  Create checks their types and range (moby's texts) and warns,
as ``verifyPlatformContainerResources`` does, where the kernel lacks the
file, and stores such a list emptied (``discard_unsupported``); start turns each path into the major:minor of its device node (moby's
``getBlkioThrottleDevices``: a ``stat`` failure fails the start).  ``update``
leaves them alone, as Docker's does.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Mapping

from dockyard.errors import Internal, InvalidArgument
from dockyard.oci.runtime import BlockDeviceValue

# HostConfig key -> (oci.Resources field, value key, v1 cgroup file, Docker's warning where missing)
FIELDS: dict[str, tuple[str, str, str, str]] = {
    "BlkioWeightDevice": (
        "blkio_weight_device", "Weight", "blkio.weight_device",
        "Your kernel does not support Block I/O weight_device or the cgroup is not mounted. "
        "Weight-device discarded."),
    "BlkioDeviceReadBps": (
        "blkio_read_bps", "Rate", "blkio.throttle.read_bps_device",
        "Your kernel does not support BPS Block I/O read limit or the cgroup is not mounted. "
        "Block I/O BPS read limit discarded."),
    "BlkioDeviceWriteBps": (
        "blkio_write_bps", "Rate", "blkio.throttle.write_bps_device",
        "Your kernel does not support BPS Block I/O write limit or the cgroup is not mounted. "
        "Block I/O BPS write limit discarded."),
    "BlkioDeviceReadIOps": (
        "blkio_read_iops", "Rate", "blkio.throttle.read_iops_device",
        "Your kernel does not support IOPS Block read limit or the cgroup is not mounted. "
        "Block I/O IOPS read limit discarded."),
    "BlkioDeviceWriteIOps": (
        "blkio_write_iops", "Rate", "blkio.throttle.write_iops_device",
        "Your kernel does not support IOPS Block write limit or the cgroup is not mounted. "
        "Block I/O IOPS write limit discarded."),
}


def probe_support(root: Path, v2: bool) -> frozenset[str]:
    """The HostConfig keys this kernel can apply (moby sysinfo: v1 checks each blkio file;
    v2 has them all with the io controller)."""
    if v2:
        return frozenset(FIELDS)
    return frozenset(k for k, (_, _, name, _) in FIELDS.items() if (root / "blkio" / name).exists())


def entries(host: Mapping[str, Any], key: str) -> list[tuple[str, int]]:
    """``host[key]`` as (path, value) pairs; InvalidArgument for a malformed list."""
    raw = host.get(key)
    if raw is None:
        return []
    value_key = FIELDS[key][1]
    if not isinstance(raw, list):
        raise InvalidArgument(f"invalid JSON: {key} must be an array")
    out = []
    for item in raw:
        path = item.get("Path") if isinstance(item, dict) else None
        value = item.get(value_key, 0) if isinstance(item, dict) else None
        if not isinstance(path, str) or not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InvalidArgument(f"invalid JSON: {key} entries must be {{\"Path\": string, "
                                  f"\"{value_key}\": unsigned integer}}")
        out.append((path, value))
    return out


def validate(host: Mapping[str, Any], supported: frozenset[str]) -> list[str]:
    """Refuse malformed lists and out-of-range weights; Docker's warnings for what the kernel lacks."""
    warnings = []
    for key, (_, _, _, warning) in FIELDS.items():
        items = entries(host, key)
        if key == "BlkioWeightDevice":
            for path, weight in items:
                if weight and not 10 <= weight <= 1000:
                    raise InvalidArgument(f"invalid weight for device: {path}:{weight}")
        if items and key not in supported:
            warnings.append(warning)
    return warnings


def discard_unsupported(host: dict[str, Any], supported: frozenset[str], weight: bool) -> dict[str, Any]:
    """What create stores: each list the kernel cannot apply emptied to ``[]`` and an unapplicable
    ``BlkioWeight`` to 0, as moby's ``verifyPlatformContainerResources`` does beside its warnings."""
    for key in FIELDS:
        if host.get(key) and key not in supported:
            host[key] = []
    if host.get("BlkioWeight") and not weight:
        host["BlkioWeight"] = 0
    return host


StatFn = Callable[[str], os.stat_result]


def resolve(host: Mapping[str, Any], supported: frozenset[str], stat: StatFn = os.stat) -> dict[str, Any]:
    """oci.Resources fields for the supported lists, each path as its device's major:minor."""
    out: dict[str, Any] = {}
    for key, (attr, _, _, _) in FIELDS.items():
        if key not in supported:
            continue
        values = []
        for path, value in entries(host, key):
            try:
                rdev = stat(path).st_rdev
            except OSError as exc:  # Docker's start error: "stat /dev/x: no such file or directory"
                raise Internal(f"stat {path}: {(exc.strerror or str(exc)).lower()}") from None
            values.append(BlockDeviceValue(os.major(rdev), os.minor(rdev), value))
        if values:
            out[attr] = tuple(values)
    return out
