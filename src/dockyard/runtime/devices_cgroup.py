"""The device allow-list (``linux.resources.devices``) on a cgroup v1 ``devices`` hierarchy.

Without it a container holding CAP_MKNOD (a Docker default) could create and open
/dev/sda.  v1 takes rules as text in ``devices.deny``/``devices.allow``; a rule list that
starts with "deny all" resets the cgroup before the allows are written.  cgroup v2 needs a
BPF_CGROUP_DEVICE program instead: ``devices_bpf.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

from dockyard.oci.runtime import DeviceRule


def rule_text(rule: DeviceRule) -> str:
    """DeviceRule -> "c 1:3 rwm" (the kernel's format; "a" rules take no numbers)."""
    if rule.type == "a":
        return "a"
    major = "*" if rule.major is None else str(rule.major)
    minor = "*" if rule.minor is None else str(rule.minor)
    return f"{rule.type} {major}:{minor} {rule.access}"


def apply_v1(dirs: Mapping[str, Path], rules: Sequence[DeviceRule]) -> bool:
    """Write ``rules`` in order into the ``devices`` hierarchy; False when there is none."""
    d = next((p for name, p in dirs.items() if "devices" in name.split(",")), None)
    if d is None:
        return False
    for rule in rules:
        (d / ("devices.allow" if rule.allow else "devices.deny")).write_text(rule_text(rule))
    return True
