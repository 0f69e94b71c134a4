"""Platforms (os/architecture/variant): the host's, parsing ``--platform``, matching index entries (pure).

Normalisation follows containerd's ``platforms`` package: ``x86_64`` is
``amd64``, ``aarch64`` is ``arm64`` (variant ``v8`` implied), ``armhf`` is
``arm/v7``.
"""

from __future__ import annotations

import platform as _platform
from dataclasses import dataclass
from typing import Any

from dockyard.errors import InvalidArgument

_ARCH = {"x86_64": "amd64", "x86-64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
         "i386": "386", "i686": "386", "386": "386", "armhf": "arm", "armel": "arm", "arm": "arm",
         "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}
_DEFAULT_VARIANT = {"armhf": "v7", "armel": "v6"}


@dataclass(frozen=True, slots=True)
class Platform:
    os: str
    architecture: str
    variant: str = ""

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


def normalize(os_: str, arch: str, variant: str = "") -> Platform:
    a = _ARCH.get(arch.lower(), arch.lower())
    v = variant.lower() or _DEFAULT_VARIANT.get(arch.lower(), "")
    if a == "arm64" and v in ("", "8"):
        v = "v8"
    if a == "arm" and v.isdigit():
        v = "v" + v
    return Platform(os_.lower(), a, v)


def host() -> Platform:
    machine = _platform.machine()
    if machine.startswith("armv7"):
        return Platform("linux", "arm", "v7")
    if machine.startswith("armv6"):
        return Platform("linux", "arm", "v6")
    return normalize("linux", machine)


def parse(spec: str) -> Platform:
    """``linux/amd64``, ``linux/arm64/v8``, ``arm64`` (os defaults to linux)."""
    parts = [p for p in spec.strip().split("/")]
    if not spec.strip() or len(parts) > 3 or not all(parts):
        raise InvalidArgument(f"\"{spec}\": unknown operating system or architecture: invalid argument")
    if len(parts) == 1:
        return normalize("linux", parts[0])
    return normalize(parts[0], parts[1], parts[2] if len(parts) == 3 else "")


def of_json(obj: Any) -> Platform | None:
    """An index entry's ``platform`` object, normalised; None if absent."""
    if not isinstance(obj, dict) or not obj.get("os") or not obj.get("architecture"):
        return None
    return normalize(str(obj["os"]), str(obj["architecture"]), str(obj.get("variant") or ""))


def matches(want: Platform, have: Platform) -> bool:
    """Same os and architecture; the variant must agree when both name one (arm64 without variant is v8)."""
    if want.os != have.os or want.architecture != have.architecture:
        return False
    return not want.variant or not have.variant or want.variant == have.variant


__all__ = ["Platform", "host", "matches", "normalize", "of_json", "parse"]
