"""HostConfig security fields -> decisions (pure): capabilities, security options, sysctls.

Docker's rules and messages, from moby's ``daemon/pkg/oci/caps`` (names are
upper-cased and given a ``CAP_`` prefix; ``ALL`` in CapAdd means every
capability but the dropped ones, in CapDrop it means "only what CapAdd
lists") and ``daemon/daemon_unix.go:parseSecurityOpt``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from dockyard.errors import InvalidArgument
from dockyard.runtime import capabilities

# moby daemon/pkg/oci/caps/defaults.go, same order.
DEFAULT_CAPS: tuple[str, ...] = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
)
KNOWN_CAPS = capabilities.NAMES  # linux/capability.h, in bit order
ALL = "ALL"


def normalize_caps(values: Iterable[str], last_cap: int = len(KNOWN_CAPS) - 1) -> list[str]:
    """moby NormalizeLegacyCapabilities; ``last_cap`` is the kernel's highest capability."""
    out = []
    for value in values:
        c = value.upper()
        if c != ALL:
            c = c if c.startswith("CAP_") else "CAP_" + c
            if c not in KNOWN_CAPS:
                raise InvalidArgument(f'unknown capability: "{c}"')
            if KNOWN_CAPS.index(c) > last_cap:
                raise InvalidArgument("capability not supported by your kernel or not available "
                                      f'in the current environment: "{c}"')
        out.append(c)
    return out


def validate_caps(host: Mapping[str, Any]) -> None:
    """At create, as moby's validateCapabilities: the messages name the field."""
    for key in ("CapAdd", "CapDrop"):
        try:
            normalize_caps(_str_list(host, key))
        except InvalidArgument as exc:
            raise InvalidArgument(f"invalid {key}: {exc}") from None


def effective_caps(adds: Sequence[str], drops: Sequence[str], *, privileged: bool,
                   last_cap: int = len(KNOWN_CAPS) - 1, available: int = -1) -> list[str]:
    """moby TweakCapabilities. "All" means every capability the kernel knows *and* the daemon
    holds (``available``: its bounding-set mask), as moby's GetAllCapabilities."""
    every = [c for i, c in enumerate(KNOWN_CAPS[:last_cap + 1]) if available & (1 << i)]
    if privileged:
        return every
    if not adds and not drops:
        return list(DEFAULT_CAPS)
    cap_drop, cap_add = normalize_caps(drops, last_cap), normalize_caps(adds, last_cap)
    if ALL in cap_add:
        return [c for c in every if c not in cap_drop]
    if ALL in cap_drop:
        return _dedup(cap_add)
    return _dedup([c for c in DEFAULT_CAPS if c not in cap_drop] + cap_add)


def _dedup(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


@dataclass(frozen=True, slots=True)
class SecurityOptions:
    no_new_privileges: bool = False
    seccomp: str = ""  # "" (the daemon's default), "unconfined", or a profile's JSON text


_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def parse_security_opts(opts: Sequence[str], *, default_no_new_privileges: bool = False) -> SecurityOptions:
    """moby parseSecurityOpt, for the options we implement (label/apparmor are accepted and ignored)."""
    nnp, seccomp = default_no_new_privileges, ""
    for opt in opts:
        if opt == "no-new-privileges":
            nnp = True
            continue
        if opt == "disable":
            continue
        sep = "=" if "=" in opt else ":" if ":" in opt else None
        if sep is None:
            raise InvalidArgument(f'invalid --security-opt 1: "{opt}"')
        key, value = opt.split(sep, 1)
        if key == "seccomp":
            seccomp = value
        elif key == "no-new-privileges":
            if value in _TRUE:
                nnp = True
            elif value in _FALSE:
                nnp = False
            else:
                raise InvalidArgument(f'invalid --security-opt 2: "{opt}"')
        elif key in ("label", "apparmor"):
            continue  # no SELinux/AppArmor here; Docker ignores them when the LSM is off too
        else:
            raise InvalidArgument(f'invalid --security-opt 2: "{opt}"')
    return SecurityOptions(no_new_privileges=nnp, seccomp=seccomp)


def _str_list(host: Mapping[str, Any], key: str) -> list[str]:
    value = host.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise InvalidArgument(f"invalid {key}: must be an array of strings")


def host_lists(host: Mapping[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """(CapAdd, CapDrop, SecurityOpt) of a HostConfig, type-checked."""
    return _str_list(host, "CapAdd"), _str_list(host, "CapDrop"), _str_list(host, "SecurityOpt")
