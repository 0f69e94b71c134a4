"""Docker's seccomp profile format -> the OCI ``linux.seccomp`` of one container (pure).

The built-in default is Docker's default policy, stated in our own layout
in ``daemon/seccomp_default.py`` and turned into a profile object there.

The Docker format adds what OCI lacks: an ``archMap`` (native arch ->
sub-architectures whose binaries may also run) and per-rule ``includes``/
``excludes`` on architectures, capabilities and a minimum kernel.  They are
resolved here, per container, the way moby's ``setupSeccomp`` does: a rule
with ``includes.caps`` needs *all* of them in the bounding set; one with
``excludes.caps`` is dropped if *any* is present.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Iterable, Mapping

from dockyard.errors import InvalidArgument
from dockyard.oci.runtime import Seccomp, SeccompArg, SeccompSyscall


# uname machine -> (Go arch name used in profiles, libseccomp arch constant)
_MACHINES = {
    "x86_64": ("amd64", "SCMP_ARCH_X86_64"), "aarch64": ("arm64", "SCMP_ARCH_AARCH64"),
    "i686": ("386", "SCMP_ARCH_X86"), "armv7l": ("arm", "SCMP_ARCH_ARM"),
    "ppc64le": ("ppc64le", "SCMP_ARCH_PPC64LE"), "s390x": ("s390x", "SCMP_ARCH_S390X"),
    "riscv64": ("riscv64", "SCMP_ARCH_RISCV64"),
}


@lru_cache(maxsize=1)
def default_profile() -> Mapping[str, Any]:
    from dockyard.daemon.seccomp_default import profile

    return profile()


def parse_profile(text: str) -> Mapping[str, Any]:
    """A user's profile (``--security-opt seccomp=<json>``); InvalidArgument if it is not one."""
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise InvalidArgument(f"Decoding seccomp profile failed: {exc}") from None
    if not isinstance(obj, dict):
        raise InvalidArgument("Decoding seccomp profile failed: not a JSON object")
    if obj.get("archMap") and obj.get("architectures"):
        raise InvalidArgument("use either 'architectures' or 'archMap'")
    return obj


def kernel_version(release: str) -> tuple[int, int]:
    """"6.1.0-18-amd64" -> (6, 1)."""
    parts = release.split("-")[0].split(".")
    try:
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        return 0, 0


def resolve(profile: Mapping[str, Any], *, caps: Iterable[str], machine: str,
            kernel: tuple[int, int]) -> Seccomp:
    """The rules that apply to a container with bounding set ``caps`` on this host."""
    goarch, native = _MACHINES.get(machine, (machine, "SCMP_ARCH_" + machine.upper()))
    capset = set(caps)
    arches: list[str] = list(profile.get("architectures") or ())
    for entry in profile.get("archMap") or ():
        if entry.get("architecture") == native:
            arches = [native, *(entry.get("subArchitectures") or ())]
    syscalls = []
    for rule in profile.get("syscalls") or ():
        inc, exc = rule.get("includes") or {}, rule.get("excludes") or {}
        if inc.get("arches") and goarch not in inc["arches"]:
            continue
        if inc.get("caps") and not set(inc["caps"]) <= capset:
            continue
        if inc.get("minKernel") and kernel < kernel_version(inc["minKernel"]):
            continue
        if exc.get("arches") and goarch in exc["arches"]:
            continue
        if exc.get("caps") and set(exc["caps"]) & capset:
            continue
        if exc.get("minKernel") and kernel >= kernel_version(exc["minKernel"]):
            continue
        names = list(rule.get("names") or ())
        if rule.get("name"):
            names.append(rule["name"])  # the pre-1.13 single-name form
        syscalls.append(SeccompSyscall(
            names=tuple(names), action=rule["action"], errno_ret=rule.get("errnoRet"),
            args=tuple(SeccompArg(int(a["index"]), int(a["value"]), a["op"], int(a.get("valueTwo", 0)))
                       for a in rule.get("args") or ()),
        ))
    if "defaultAction" not in profile:
        raise InvalidArgument("seccomp profile has no defaultAction")
    return Seccomp(default_action=profile["defaultAction"], default_errno_ret=profile.get("defaultErrnoRet"),
                   architectures=tuple(arches), flags=tuple(profile.get("flags") or ()),
                   syscalls=tuple(syscalls))
